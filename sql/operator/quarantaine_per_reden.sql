-- The operator's view: quarantine rows per fase and reason code, all kept rows and those since "van".
SELECT fase, reden_code,
       COUNT(*) AS totaal,
       COALESCE(SUM(CASE WHEN geregistreerd_op >= :van THEN 1 ELSE 0 END), 0) AS vandaag
FROM quarantaine
GROUP BY fase, reden_code
ORDER BY fase, reden_code
