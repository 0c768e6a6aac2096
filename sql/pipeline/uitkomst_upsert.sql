-- pogingen / volgende_poging: the retry bookkeeping of an onbekend (nazorg.batch.verzamel), written
-- by the per-melding path as by a batch chunk, so the next batch retries either one's onbekend.
INSERT INTO uitkomst (melding_id, check_id, aandachtsgebied, uitkomst, dossierverantwoordelijke, contact_herkomst,
                      reden, processing_activity_id, bepaald_op, pogingen, volgende_poging)
VALUES (:melding_id, :check_id, :aandachtsgebied, :uitkomst, :dossierverantwoordelijke, :contact_herkomst,
        :reden, :processing_activity_id, :nu, :pogingen, :volgende_poging)
ON CONFLICT (melding_id, check_id) DO UPDATE
SET aandachtsgebied = excluded.aandachtsgebied, uitkomst = excluded.uitkomst,
    dossierverantwoordelijke = excluded.dossierverantwoordelijke,
    contact_herkomst = excluded.contact_herkomst, reden = excluded.reden,
    processing_activity_id = excluded.processing_activity_id, bepaald_op = excluded.bepaald_op,
    pogingen = excluded.pogingen, volgende_poging = excluded.volgende_poging
