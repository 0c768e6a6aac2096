-- Is er een huurschuld bekend? No amount, no landlord.
SELECT bsn, 1 AS bekend, team AS dossierverantwoordelijke
FROM wonen_huurschuld
WHERE bsn IN :bsns AND achterstand_bedrag > 0
