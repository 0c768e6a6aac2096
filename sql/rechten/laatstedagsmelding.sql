SELECT melding_id, datum_uitstroom, gemeente_hervestiging, status, ontvangen_op
FROM laatstedagsmelding WHERE melding_id IN :melding_ids ORDER BY melding_id
