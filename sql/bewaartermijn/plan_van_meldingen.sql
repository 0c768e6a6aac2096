-- Everything of table plan for these meldingen (an expanding list).
DELETE FROM plan WHERE melding_id IN :melding_ids
