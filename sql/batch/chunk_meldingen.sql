-- The chunk's meldingen it still holds: one that a run of this chunk already finished
-- (published, blocked, failed: the claim ended with it) is not processed twice.
SELECT i.melding_id, i.bsn, i.gemeente_code, i.reclassering_betrokken, i.run_key, i.status, m.soort
FROM batch_chunk_melding m
JOIN inbox i ON i.melding_id = m.melding_id
WHERE m.chunk_id = :chunk_id AND i.claim = :claim
ORDER BY i.melding_id
