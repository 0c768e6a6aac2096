SELECT melding_id, check_id, aandachtsgebied, uitvoeren, reden
FROM plan WHERE melding_id IN :melding_ids ORDER BY melding_id, check_id
