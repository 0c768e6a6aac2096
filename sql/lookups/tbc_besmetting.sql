-- Lopende (niet afgesloten) registratie van een besmetting (tbc e.a.) bij de GGD?
-- A registration closed long ago asks no action: nee. Never the disease, never a date.
SELECT bsn, 1 AS bekend, team AS dossierverantwoordelijke
FROM ggd_meldingen
WHERE bsn IN :bsns AND afgesloten_op IS NULL
