-- Is er een aanvraag voor een uitkering in behandeling, zonder lopende uitkering?
-- (Tabel 2: in afwachting van een eventuele uitkering een voorschot verstrekken.)
-- No regeling, no amount, no dates: only the fact and the consulent's team.
SELECT a.bsn, 1 AS bekend, a.consulent_team AS dossierverantwoordelijke
FROM wi_aanvragen a
WHERE a.bsn IN :bsns
  AND a.status = 'in_behandeling'
  AND NOT EXISTS (SELECT 1 FROM wi_uitkeringen u WHERE u.bsn = a.bsn AND u.status = 'lopend')
