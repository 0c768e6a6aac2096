-- The operator's view: notification attempts since "sinds" per kind, channel and result.
SELECT soort, kanaal, status, COUNT(*) AS aantal
FROM notificatie
WHERE verzonden_op >= :sinds
GROUP BY soort, kanaal, status
ORDER BY soort, kanaal, status
