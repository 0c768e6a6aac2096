-- Everything of table notificatie for these meldingen (an expanding list).
DELETE FROM notificatie WHERE melding_id IN :melding_ids
