-- Publishing the same melding again replaces its document: one basisdocument per melding.
-- versie counts changed publications, as the batch's outbox_insert does: the same document
-- again keeps its versie, a changed one (e.g. an onbekend filled in) gets the next.
INSERT INTO outbox (melding_id, gemeente_code, inhoud, bestand, gepubliceerd_op)
VALUES (:melding_id, :gemeente_code, :inhoud, :bestand, :nu)
ON CONFLICT (melding_id) DO UPDATE
SET gemeente_code = excluded.gemeente_code, inhoud = excluded.inhoud, bestand = excluded.bestand,
    gepubliceerd_op = excluded.gepubliceerd_op,
    versie = CASE WHEN outbox.inhoud = excluded.inhoud THEN outbox.versie ELSE outbox.versie + 1 END
