-- What the chunk published, with the Parquet file each row names: a retry after a worker died
-- between the chunk's commit and moving its Parquet files into place writes them from here.
SELECT o.melding_id, o.gemeente_code, o.inhoud, o.bestand, o.versie, o.gepubliceerd_op
FROM batch_chunk_melding m
JOIN outbox o ON o.melding_id = m.melding_id
WHERE m.chunk_id = :chunk_id AND o.bestand IS NOT NULL
ORDER BY o.melding_id
