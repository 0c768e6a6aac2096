DELETE FROM basisdocument WHERE melding_id = :melding_id
