DELETE FROM plan WHERE melding_id = :melding_id
