-- The meldingen of one person (the BSN in its canonical nine digits), for recording consent.
SELECT melding_id, gemeente_code, status, ontvangen_op
FROM inbox
WHERE bsn = :bsn
ORDER BY ontvangen_op, melding_id
