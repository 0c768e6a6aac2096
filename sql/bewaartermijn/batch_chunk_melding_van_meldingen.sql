-- Everything of table batch_chunk_melding for these meldingen (an expanding list).
DELETE FROM batch_chunk_melding WHERE melding_id IN :melding_ids
