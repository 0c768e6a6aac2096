-- The operator's view (nazorg.operator_view): meldingen per state, all of them and those received
-- since "van" (today, Dutch time). Counts only; a tombstone keeps its state and counts too.
SELECT status,
       COUNT(*) AS totaal,
       COALESCE(SUM(CASE WHEN ontvangen_op >= :van THEN 1 ELSE 0 END), 0) AS vandaag
FROM inbox
GROUP BY status
ORDER BY status
