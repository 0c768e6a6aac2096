SELECT check_id FROM toestemming
WHERE bsn = :bsn AND (geldig_tot IS NULL OR geldig_tot >= :peildatum)
