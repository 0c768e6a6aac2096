-- A herhaling re-decides only the checks it asks again.
INSERT INTO plan (melding_id, check_id, aandachtsgebied, uitvoeren, reden)
VALUES (:melding_id, :check_id, :aandachtsgebied, :uitvoeren, :reden)
ON CONFLICT (melding_id, check_id) DO UPDATE
SET aandachtsgebied = excluded.aandachtsgebied, uitvoeren = excluded.uitvoeren, reden = excluded.reden
