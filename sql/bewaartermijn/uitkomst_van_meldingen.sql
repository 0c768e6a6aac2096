-- Everything of table uitkomst for these meldingen (an expanding list).
DELETE FROM uitkomst WHERE melding_id IN :melding_ids
