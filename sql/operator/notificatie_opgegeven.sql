-- The operator's view: notifications given up after every attempt (quarantined with
-- reason notificatie_mislukt), per origin (laatstedagsmelding, inseinen).
SELECT herkomst, COUNT(*) AS aantal
FROM quarantaine
WHERE reden_code = :notificatie_mislukt
GROUP BY herkomst
ORDER BY herkomst
