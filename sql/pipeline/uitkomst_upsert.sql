INSERT INTO uitkomst (melding_id, check_id, aandachtsgebied, uitkomst, dossierverantwoordelijke,
                      reden, processing_activity_id, bepaald_op)
VALUES (:melding_id, :check_id, :aandachtsgebied, :uitkomst, :dossierverantwoordelijke,
        :reden, :processing_activity_id, :nu)
ON CONFLICT (melding_id, check_id) DO UPDATE
SET aandachtsgebied = excluded.aandachtsgebied, uitkomst = excluded.uitkomst,
    dossierverantwoordelijke = excluded.dossierverantwoordelijke, reden = excluded.reden,
    processing_activity_id = excluded.processing_activity_id, bepaald_op = excluded.bepaald_op
