-- Is een uitkering toegekend die een voorschot legitimeert?
SELECT bsn, 1 AS bekend, consulent_team AS dossierverantwoordelijke
FROM wi_uitkeringen
WHERE bsn IN :bsns AND status = 'lopend'
