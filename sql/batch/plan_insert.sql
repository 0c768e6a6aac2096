-- After plan_delete_meldingen in the same transaction (COPY on PostgreSQL, see Store.bulk).
INSERT INTO plan (melding_id, check_id, aandachtsgebied, uitvoeren, reden)
VALUES (:melding_id, :check_id, :aandachtsgebied, :uitvoeren, :reden)
