-- Everything of table outbox for these meldingen (an expanding list).
DELETE FROM outbox WHERE melding_id IN :melding_ids
