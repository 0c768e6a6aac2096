-- Everything of table basisdocument for these meldingen (an expanding list).
DELETE FROM basisdocument WHERE melding_id IN :melding_ids
