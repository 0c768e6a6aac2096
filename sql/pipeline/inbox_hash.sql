SELECT inhoud_hash FROM inbox WHERE melding_id = :melding_id
