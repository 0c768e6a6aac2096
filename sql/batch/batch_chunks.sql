SELECT chunk_id, status, meldingen, aangemaakt_op, klaar_op
FROM batch_chunk WHERE batch_id = :batch_id ORDER BY volgnummer
