-- The operator's view: laatstedagsmeldingen per state (ontvangen: notifications still pending).
SELECT status, COUNT(*) AS aantal
FROM laatstedagsmelding
GROUP BY status
ORDER BY status
