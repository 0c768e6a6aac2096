SELECT melding_id, aandachtsgebied, check_id, uitkomst, dossierverantwoordelijke, contact_herkomst, reden
FROM uitkomst
WHERE melding_id = :melding_id
ORDER BY check_id
