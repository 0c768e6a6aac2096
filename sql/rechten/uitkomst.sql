SELECT melding_id, check_id, aandachtsgebied, uitkomst, dossierverantwoordelijke, reden,
       processing_activity_id, bepaald_op
FROM uitkomst WHERE melding_id IN :melding_ids ORDER BY melding_id, check_id
