-- The first statement of a block's transaction: the row lock makes concurrent writes
-- for this melding wait until the purge is committed (see inbox_vergrendel.sql).
-- Blocking is final, so whoever held a claim on the melding (a run, a batch chunk) loses it.
UPDATE inbox SET status = :geblokkeerd, claim = NULL, claim_tot = NULL, bijgewerkt_op = :nu
WHERE melding_id = :melding_id
