-- Published meldingen per gemeente received in [van, tot) (nazorg.rapportage.tellingen): the N of a table.
SELECT gemeente_code, COUNT(*) AS meldingen
FROM inbox
WHERE status = :gepubliceerd
  AND ontvangen_op >= :van AND ontvangen_op < :tot
  AND gemeente_code IN :gemeenten
GROUP BY gemeente_code
ORDER BY gemeente_code
