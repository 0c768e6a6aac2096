-- Uitkering of re-integratietraject bij de gemeente? No regeling, no amount.
SELECT bsn, 1 AS bekend, consulent_team AS dossierverantwoordelijke
FROM wi_uitkeringen
WHERE bsn IN :bsns AND (status = 'lopend' OR reintegratie_traject = 1)
