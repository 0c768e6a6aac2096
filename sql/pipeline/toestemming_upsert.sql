INSERT INTO toestemming (bsn, check_id, soort, geldig_tot)
VALUES (:bsn, :check_id, :soort, :geldig_tot)
ON CONFLICT (bsn, check_id) DO UPDATE SET soort = excluded.soort, geldig_tot = excluded.geldig_tot
