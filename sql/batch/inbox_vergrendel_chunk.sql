-- The first statement of a chunk's write transaction: takes the row locks (PostgreSQL) or the
-- write lock (SQLite) of every melding the chunk still holds, and returns them. A melding whose
-- claim was taken over (claim_tot passed) or that is blocked gets no write from this chunk.
UPDATE inbox SET bijgewerkt_op = :nu
WHERE claim = :claim AND status <> :geblokkeerd
RETURNING melding_id
