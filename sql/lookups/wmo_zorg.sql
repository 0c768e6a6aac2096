-- Lopende Wmo- of zorgtrajecten? No voorziening, no indication.
SELECT bsn, 1 AS bekend, team AS dossierverantwoordelijke
FROM wmo_voorzieningen
WHERE bsn IN :bsns AND einddatum IS NULL
