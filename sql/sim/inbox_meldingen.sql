-- The simulator's consent: every melding with its BSN, to match against the synthetic people.
SELECT melding_id, bsn FROM inbox ORDER BY melding_id
