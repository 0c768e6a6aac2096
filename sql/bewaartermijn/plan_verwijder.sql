-- The plan rows of one check whose term has run, for these meldingen (an expanding list).
DELETE FROM plan WHERE check_id = :check_id AND melding_id IN :melding_ids
