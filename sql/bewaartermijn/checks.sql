-- Every (melding, check) that still has a plan row or an outcome: what a per-check term deletes.
SELECT melding_id, check_id FROM uitkomst
UNION
SELECT melding_id, check_id FROM plan
