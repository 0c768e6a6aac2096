-- The plan's decision for one check, read under the melding's lock before its outcome is stored.
SELECT uitvoeren, reden FROM plan WHERE melding_id = :melding_id AND check_id = :check_id
