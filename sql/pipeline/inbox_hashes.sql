-- The stored content hash and run key of a batch's meldingen, in one query (nazorg.inbox).
-- The ids are an expanding parameter (bound with expanding=True): one bound parameter
-- per id, never text built from a sender's value.
SELECT melding_id, run_key, inhoud_hash FROM inbox WHERE melding_id IN :melding_ids
