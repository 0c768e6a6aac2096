-- How far one notification is: sent at all, and how many attempts failed (the retry bound).
SELECT
    COALESCE(SUM(CASE WHEN status = :verzonden THEN 1 ELSE 0 END), 0) AS verzonden,
    COALESCE(SUM(CASE WHEN status = :mislukt THEN 1 ELSE 0 END), 0) AS mislukt
FROM notificatie
WHERE melding_id = :melding_id AND soort = :soort AND gemeente_code = :gemeente_code AND team_id = :team_id
