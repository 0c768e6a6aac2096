-- After outbox_delete_meldingen in the same transaction; versie 1 for a new document, +1 when
-- a herhaling changed it. bestand: the chunk's Parquet file (the batch writes no JSON files).
INSERT INTO outbox (melding_id, gemeente_code, inhoud, bestand, gepubliceerd_op, versie)
VALUES (:melding_id, :gemeente_code, :inhoud, :bestand, :nu, :versie)
