-- A check one consent covers.
INSERT INTO toestemming_check (toestemming_id, check_id)
VALUES (:toestemming_id, :check_id)
ON CONFLICT (toestemming_id, check_id) DO NOTHING
