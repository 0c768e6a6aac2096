SELECT melding_id, aandachtsgebied, check_id, uitkomst, dossierverantwoordelijke, reden
FROM uitkomst
WHERE melding_id = :melding_id
ORDER BY check_id
