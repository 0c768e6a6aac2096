-- What this batch's claim (the transaction's own token) actually got, in the order chunks are cut.
SELECT melding_id, status FROM inbox WHERE claim = :token ORDER BY melding_id
