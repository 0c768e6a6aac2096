SELECT melding_id, gemeente_code, inhoud, bestand, gepubliceerd_op FROM outbox ORDER BY melding_id
