-- Is de persoon bekend bij de maatschappelijke opvang? (contact voor onderdak)
SELECT bsn, 1 AS bekend, contactteam AS dossierverantwoordelijke
FROM mo_clienten
WHERE bsn IN :bsns
