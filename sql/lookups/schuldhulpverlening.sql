-- Bekend bij de gemeentelijke schuldhulpverlening? No debts, no creditors.
SELECT bsn, 1 AS bekend, schuldhulpverlener_team AS dossierverantwoordelijke
FROM shv_dossiers
WHERE bsn IN :bsns
