-- The attempts made so far at one check of one melding (none: no outcome stored yet).
SELECT pogingen FROM uitkomst WHERE melding_id = :melding_id AND check_id = :check_id
