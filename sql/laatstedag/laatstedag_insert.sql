-- A laatstedagsmelding is stored once per melding; the same melding again changes nothing
-- (nazorg.laatstedag reads the stored hash back to tell "same content" from a conflict).
INSERT INTO laatstedagsmelding (melding_id, datum_uitstroom, gemeente_hervestiging, inhoud_hash,
                                ontvangen_op, status)
VALUES (:melding_id, :datum_uitstroom, :gemeente_hervestiging, :inhoud_hash, :nu, :status)
ON CONFLICT (melding_id) DO NOTHING
