-- A consent change takes the melding's row lock (PostgreSQL) or the write lock (SQLite) first,
-- in its own transaction, whatever the melding's state: a run's writes (inbox_vergrendel) and a
-- chunk's (batch/inbox_vergrendel_chunk) wait for it or it waits for them, never in between.
-- A batch chunk's claim ends with it: that chunk planned under the consent as it was and will
-- write nothing for this melding (it writes only what it still holds); the next batch takes the
-- melding up (or its retries) under the consent as it is now. A run's claim stays: a run re-reads
-- the plan under the lock before it stores an outcome (nazorg.pipeline._bewaar_uitkomst).
UPDATE inbox
SET bijgewerkt_op = :nu,
    claim = CASE WHEN claim LIKE 'chunk:%' THEN NULL ELSE claim END,
    claim_tot = CASE WHEN claim LIKE 'chunk:%' THEN NULL ELSE claim_tot END
WHERE melding_id = :melding_id
