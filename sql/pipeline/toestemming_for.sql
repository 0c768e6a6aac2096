-- The checks a recorded toestemming or overeenkomst covers for one melding today: not withdrawn,
-- not expired (geldig_tot is the last day it holds). Read in the plan's own transaction.
SELECT DISTINCT c.check_id
FROM toestemming t
JOIN toestemming_check c ON c.toestemming_id = t.toestemming_id
WHERE t.melding_id = :melding_id AND t.ingetrokken_op IS NULL
  AND (t.geldig_tot IS NULL OR t.geldig_tot >= :peildatum)
