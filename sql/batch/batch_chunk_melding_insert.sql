-- A chunk's meldingen, from its claim: a published melding is in it for its retries only.
INSERT INTO batch_chunk_melding (chunk_id, melding_id, soort)
SELECT :chunk_id, melding_id, CASE WHEN status = :gepubliceerd THEN :herhaling ELSE :nieuw END
FROM inbox WHERE claim = :claim
