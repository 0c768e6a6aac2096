-- Outcome counts per check over a batch's meldingen, for the operator's summary: never one person's.
SELECT u.check_id, u.uitkomst, COUNT(*) AS aantal
FROM batch_chunk c
JOIN batch_chunk_melding m ON m.chunk_id = c.chunk_id
JOIN uitkomst u ON u.melding_id = m.melding_id
WHERE c.batch_id = :batch_id
GROUP BY u.check_id, u.uitkomst
ORDER BY u.check_id, u.uitkomst
