-- Consent withdrawn: the plan no longer runs the check (a run still in progress reads it again).
UPDATE plan SET uitvoeren = :nee, reden = :geen_toestemming
WHERE melding_id = :melding_id AND check_id IN :check_ids
