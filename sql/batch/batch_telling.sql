-- Where a batch's meldingen are now: counts only (a melding in two chunks of one batch cannot be).
SELECT i.status, COUNT(*) AS aantal
FROM batch_chunk c
JOIN batch_chunk_melding m ON m.chunk_id = c.chunk_id
JOIN inbox i ON i.melding_id = m.melding_id
WHERE c.batch_id = :batch_id
GROUP BY i.status
