-- Consent for a whole chunk in one query (the batch; a per-melding run asks toestemming_for):
-- the checks covered per melding, not withdrawn, not expired. melding_ids is an expanding list.
SELECT DISTINCT t.melding_id, c.check_id
FROM toestemming t
JOIN toestemming_check c ON c.toestemming_id = t.toestemming_id
WHERE t.melding_id IN :melding_ids AND t.ingetrokken_op IS NULL
  AND (t.geldig_tot IS NULL OR t.geldig_tot >= :peildatum)
