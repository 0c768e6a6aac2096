-- The published documents of one gemeente for the coördinator's werklijst (nazorg.werklijst);
-- a coördinator never sees another gemeente's documents, so the filter is in the statement.
SELECT melding_id, inhoud, gepubliceerd_op
FROM outbox
WHERE gemeente_code = :gemeente_code
ORDER BY melding_id
