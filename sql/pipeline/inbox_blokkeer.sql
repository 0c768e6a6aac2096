-- The first statement of a block's transaction: the row lock makes concurrent writes
-- for this melding wait until the purge is committed (see inbox_vergrendel.sql).
UPDATE inbox SET status = :geblokkeerd, bijgewerkt_op = :nu WHERE melding_id = :melding_id
