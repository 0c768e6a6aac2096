-- Everything of table quarantaine for these meldingen (an expanding list).
DELETE FROM quarantaine WHERE melding_id IN :melding_ids
