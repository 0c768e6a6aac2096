-- The checks that answered ja for one melding, with the team (published name) they named.
SELECT check_id, dossierverantwoordelijke
FROM uitkomst
WHERE melding_id = :melding_id AND uitkomst = :ja
ORDER BY check_id
