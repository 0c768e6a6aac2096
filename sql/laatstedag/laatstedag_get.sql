SELECT melding_id, datum_uitstroom, gemeente_hervestiging, inhoud_hash, ontvangen_op, status
FROM laatstedagsmelding
WHERE melding_id = :melding_id
