UPDATE batch_chunk SET status = :status, klaar_op = :nu WHERE chunk_id = :chunk_id AND status = :open
