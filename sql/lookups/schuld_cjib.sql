-- Schuld bij het CJIB? No amount.
SELECT bsn, 1 AS bekend, team AS dossierverantwoordelijke
FROM cjib_vorderingen
WHERE bsn IN :bsns AND openstaand_bedrag > 0
