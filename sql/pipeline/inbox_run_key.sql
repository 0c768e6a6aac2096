-- The run key of a stored melding, to start its run (operators know meldingen by melding_id).
SELECT run_key FROM inbox WHERE melding_id = :melding_id
