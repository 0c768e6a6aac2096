-- Besmetting (tbc e.a.) geregistreerd bij de GGD? Never the disease.
SELECT bsn, 1 AS bekend, team AS dossierverantwoordelijke
FROM ggd_meldingen
WHERE bsn IN :bsns
