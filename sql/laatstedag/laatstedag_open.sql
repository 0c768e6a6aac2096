-- Every laatstedagsmelding whose notifications are not yet settled, oldest first.
SELECT melding_id, datum_uitstroom, gemeente_hervestiging
FROM laatstedagsmelding
WHERE status = :ontvangen
ORDER BY ontvangen_op, melding_id
