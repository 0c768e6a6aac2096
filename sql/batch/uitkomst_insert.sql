-- After uitkomst_delete_meldingen in the same transaction: every outcome of the melding, with
-- its retry bookkeeping (pogingen, volgende_poging: see nazorg.batch.herhaling).
INSERT INTO uitkomst (melding_id, check_id, aandachtsgebied, uitkomst, dossierverantwoordelijke, contact_herkomst,
                      reden, processing_activity_id, bepaald_op, pogingen, volgende_poging)
VALUES (:melding_id, :check_id, :aandachtsgebied, :uitkomst, :dossierverantwoordelijke, :contact_herkomst,
        :reden, :processing_activity_id, :bepaald_op, :pogingen, :volgende_poging)
