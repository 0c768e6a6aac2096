SELECT chunk_id, batch_id, volgnummer, status, meldingen, aangemaakt_op, klaar_op
FROM batch_chunk WHERE chunk_id = :chunk_id
