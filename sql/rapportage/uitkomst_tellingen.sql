-- Outcome counts per gemeente, check and outcome (nazorg.rapportage.tellingen): never a row per person.
-- Only published meldingen count; the month is the one the pipeline received the melding in
-- (inbox.ontvangen_op, UTC ISO 8601 text of one fixed format, so [van, tot) compares as strings).
SELECT i.gemeente_code, u.check_id, u.uitkomst, COUNT(*) AS aantal
FROM uitkomst u
JOIN inbox i ON i.melding_id = u.melding_id
WHERE i.status = :gepubliceerd
  AND i.ontvangen_op >= :van AND i.ontvangen_op < :tot
  AND i.gemeente_code IN :gemeenten
GROUP BY i.gemeente_code, u.check_id, u.uitkomst
ORDER BY i.gemeente_code, u.check_id, u.uitkomst
