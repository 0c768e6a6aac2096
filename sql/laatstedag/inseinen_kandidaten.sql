-- Published meldingen of gemeenten with a regievoerder whose doelgroep_topx check answered ja
-- and whose inseinen notification was neither sent nor given up (attempts below the bound).
-- The gemeenten are an expanding parameter; the team is not part of "sent": the regievoerder is
-- told once per melding, also when the besluit names another team later.
SELECT i.melding_id, i.gemeente_code, i.datum_binnenkomst
FROM inbox i
JOIN uitkomst u ON u.melding_id = i.melding_id
WHERE i.status = :gepubliceerd
  AND i.gemeente_code IN :gemeenten
  AND u.check_id = :check_id
  AND u.uitkomst = :ja
  AND NOT EXISTS (
      SELECT 1 FROM notificatie n
      WHERE n.melding_id = i.melding_id AND n.soort = :soort AND n.status = :verzonden
  )
  AND (
      SELECT COUNT(*) FROM notificatie n
      WHERE n.melding_id = i.melding_id AND n.soort = :soort AND n.status = :mislukt
  ) < :max_pogingen
ORDER BY i.melding_id
