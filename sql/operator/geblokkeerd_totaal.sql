-- The operator's view: how many meldingen the guard blocked (still geblokkeerd).
SELECT COUNT(DISTINCT q.melding_id) AS aantal
FROM quarantaine q
JOIN inbox i ON i.melding_id = q.melding_id
WHERE i.status = :geblokkeerd AND q.fase = :bewaak
