-- Per retried melding of the chunk, the checks due again: onbekend (or niet_uitgevoerd for lack of
-- a consent recorded since), a next attempt set and passed at the moment the batch was collected
-- (peil), attempts left. Whether consent still holds is decided again when the chunk plans.
SELECT u.melding_id, u.check_id, u.uitkomst, u.reden, u.pogingen
FROM uitkomst u
JOIN batch_chunk_melding m ON m.melding_id = u.melding_id
JOIN inbox i ON i.melding_id = u.melding_id
WHERE m.chunk_id = :chunk_id AND m.soort = :herhaling AND i.claim = :claim
  AND (u.uitkomst = :onbekend OR (u.uitkomst = :niet_uitgevoerd AND u.reden = :geen_toestemming))
  AND u.volgende_poging IS NOT NULL AND u.volgende_poging <= :peil
  AND u.pogingen < :max_pogingen
ORDER BY u.melding_id, u.check_id
