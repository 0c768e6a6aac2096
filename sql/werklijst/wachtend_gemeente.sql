-- Checks of one gemeente's published documents that are asked again (volgende_poging set):
-- the werklijst's "wacht op nieuwe check". Check ids only: the outcome itself is in the document.
SELECT u.melding_id, u.check_id
FROM uitkomst u
JOIN outbox o ON o.melding_id = u.melding_id
WHERE o.gemeente_code = :gemeente_code
  AND u.volgende_poging IS NOT NULL
ORDER BY u.melding_id, u.check_id
