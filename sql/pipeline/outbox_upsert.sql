-- Publishing the same melding again replaces its document: one basisdocument per melding.
INSERT INTO outbox (melding_id, gemeente_code, inhoud, bestand, gepubliceerd_op)
VALUES (:melding_id, :gemeente_code, :inhoud, :bestand, :nu)
ON CONFLICT (melding_id) DO UPDATE
SET gemeente_code = excluded.gemeente_code, inhoud = excluded.inhoud, bestand = excluded.bestand,
    gepubliceerd_op = excluded.gepubliceerd_op
