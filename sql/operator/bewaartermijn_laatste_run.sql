-- The operator's view: the last daily retention run (not an erasure request: that is one person's).
SELECT peildatum, droog, uitgevoerd_op
FROM bewaartermijn_run
WHERE soort = :bewaartermijn
ORDER BY uitgevoerd_op DESC
LIMIT 1
