-- The operator's view: meldingen blocked by the guard (still geblokkeerd), per failed expectation
-- and column. A melding with two failures counts under both; the total is counted apart.
SELECT q.expectation, q.veld, COUNT(DISTINCT q.melding_id) AS aantal
FROM quarantaine q
JOIN inbox i ON i.melding_id = q.melding_id
WHERE i.status = :geblokkeerd AND q.fase = :bewaak
GROUP BY q.expectation, q.veld
ORDER BY q.expectation, q.veld
