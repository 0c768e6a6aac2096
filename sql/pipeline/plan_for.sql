SELECT check_id, aandachtsgebied, uitvoeren, reden
FROM plan
WHERE melding_id = :melding_id
ORDER BY check_id
