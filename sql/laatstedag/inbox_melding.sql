-- What a laatstedagsmelding is checked against and routed by: the inbox row of its melding.
SELECT melding_id, bsn, gemeente_code, datum_binnenkomst, status
FROM inbox
WHERE melding_id = :melding_id
