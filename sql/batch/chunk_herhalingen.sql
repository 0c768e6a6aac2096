-- Per retried melding of the chunk, the checks due again: onbekend, a next attempt set and
-- passed at the moment the batch was collected (peil), attempts left.
SELECT u.melding_id, u.check_id, u.uitkomst, u.reden, u.pogingen
FROM uitkomst u
JOIN batch_chunk_melding m ON m.melding_id = u.melding_id
JOIN inbox i ON i.melding_id = u.melding_id
WHERE m.chunk_id = :chunk_id AND m.soort = :herhaling AND i.claim = :claim
  AND u.uitkomst = :onbekend AND u.volgende_poging IS NOT NULL AND u.volgende_poging <= :peil
  AND u.pogingen < :max_pogingen
ORDER BY u.melding_id, u.check_id
