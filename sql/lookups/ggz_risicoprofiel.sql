-- Voldoet de persoon aan het GGZ-risicoprofiel? Never the diagnosis.
SELECT bsn, 1 AS bekend, behandelteam AS dossierverantwoordelijke
FROM ggz_profielen
WHERE bsn IN :bsns AND risicoprofiel = 1
