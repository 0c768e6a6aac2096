-- Everything of table laatstedagsmelding for these meldingen (an expanding list).
DELETE FROM laatstedagsmelding WHERE melding_id IN :melding_ids
