-- The batch chunks that held a melding: their Parquet files may hold its published rows.
SELECT DISTINCT chunk_id FROM batch_chunk_melding WHERE melding_id = :melding_id ORDER BY chunk_id
