-- The operator's view: outcomes onbekend because a source failed (redenen: bron_onbereikbaar,
-- bron_timeout, bron_fout), determined since "sinds", per check and reason. No time per outcome.
SELECT check_id, reden, COUNT(*) AS aantal
FROM uitkomst
WHERE uitkomst = :onbekend AND reden IN :redenen AND bepaald_op >= :sinds
GROUP BY check_id, reden
ORDER BY check_id, reden
