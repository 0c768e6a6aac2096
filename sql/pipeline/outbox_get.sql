SELECT melding_id, gemeente_code, inhoud, bestand, gepubliceerd_op FROM outbox
WHERE melding_id = :melding_id
