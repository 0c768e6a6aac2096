-- Valt de persoon binnen de doelgroep gerichte aanpak (top-x)?
-- Exactly bsn, bekend, dossierverantwoordelijke: no delict, no history.
SELECT bsn, 1 AS bekend, regievoerder AS dossierverantwoordelijke
FROM vh_doelgroep
WHERE bsn IN :bsns AND actief = 1
