SELECT melding_id, gemeente_code, versie, bestand, gepubliceerd_op
FROM outbox WHERE melding_id IN :melding_ids ORDER BY melding_id
