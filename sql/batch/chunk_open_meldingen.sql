-- A failed chunk's meldingen that are still in processing under its claim: they end mislukt.
SELECT i.melding_id FROM batch_chunk_melding m
JOIN inbox i ON i.melding_id = m.melding_id
WHERE m.chunk_id = :chunk_id AND i.claim = :claim AND i.status IN (:ontvangen, :in_behandeling)
ORDER BY i.melding_id
