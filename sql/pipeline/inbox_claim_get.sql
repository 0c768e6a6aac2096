-- Why ontvang's claim was refused: blocked, a tombstone (no BSN; the flag only), or claimed by
-- someone else.
SELECT status, claim, claim_tot, CASE WHEN bsn IS NULL THEN 1 ELSE 0 END AS grafsteen
FROM inbox WHERE melding_id = :melding_id
