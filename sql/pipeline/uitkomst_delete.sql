DELETE FROM uitkomst WHERE melding_id = :melding_id
