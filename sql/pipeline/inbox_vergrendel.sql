-- Every write for a melding starts with this, in the same transaction. It takes the
-- melding's row lock (PostgreSQL) or the database write lock (SQLite) and matches no
-- row once the melding is blocked or its run failed: a write racing a block either
-- commits first (and the block, waiting for the lock, purges it) or waits and then
-- finds no row (refused). Only a new run (ontvang, inbox_claim_run) reopens a
-- failed melding; nothing reopens a blocked one.
UPDATE inbox SET bijgewerkt_op = :nu
WHERE melding_id = :melding_id AND status NOT IN (:geblokkeerd, :mislukt)
