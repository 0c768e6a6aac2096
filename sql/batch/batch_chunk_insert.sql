INSERT INTO batch_chunk (chunk_id, batch_id, volgnummer, status, meldingen, aangemaakt_op, klaar_op)
VALUES (:chunk_id, :batch_id, :volgnummer, :status, :meldingen, :nu, NULL)
