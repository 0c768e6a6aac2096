-- Consent for a whole chunk in one query (the batch; a per-melding run asks toestemming_for).
-- The bsns parameter is an expanding list: one statement for the chunk, not one per person.
SELECT bsn, check_id FROM toestemming
WHERE bsn IN :bsns AND (geldig_tot IS NULL OR geldig_tot >= :peildatum)
