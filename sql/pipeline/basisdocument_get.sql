SELECT melding_id, gemeente_code, status, inhoud, register_versie FROM basisdocument
WHERE melding_id = :melding_id
