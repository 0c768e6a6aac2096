-- Where a chunk's meldingen are now: counts only.
SELECT i.status, COUNT(*) AS aantal
FROM batch_chunk_melding m JOIN inbox i ON i.melding_id = m.melding_id
WHERE m.chunk_id = :chunk_id
GROUP BY i.status
