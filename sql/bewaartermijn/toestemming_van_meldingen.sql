-- Everything of table toestemming for these meldingen (an expanding list).
DELETE FROM toestemming WHERE melding_id IN :melding_ids
