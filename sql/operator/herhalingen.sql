-- The operator's view: outcomes the batch will ask again (as sql/batch/verzamel_claim.sql selects
-- them), per check: waiting for their volgende_poging, and due now (the next batch takes them).
SELECT check_id,
       COALESCE(SUM(CASE WHEN volgende_poging > :nu THEN 1 ELSE 0 END), 0) AS wachtend,
       COALESCE(SUM(CASE WHEN volgende_poging <= :nu THEN 1 ELSE 0 END), 0) AS aan_de_beurt
FROM uitkomst
WHERE volgende_poging IS NOT NULL
  AND pogingen < :max_pogingen
  AND (uitkomst = :onbekend OR (uitkomst = :niet_uitgevoerd AND reden = :geen_toestemming))
GROUP BY check_id
ORDER BY check_id
