-- The stored outcomes of meldingen a chunk asks again (herhaling), with their retry bookkeeping.
SELECT melding_id, check_id, aandachtsgebied, uitkomst, dossierverantwoordelijke, contact_herkomst, reden,
       processing_activity_id, bepaald_op, pogingen, volgende_poging
FROM uitkomst
WHERE melding_id IN :melding_ids
ORDER BY melding_id, check_id
