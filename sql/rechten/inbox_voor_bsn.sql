-- Art. 15/17: the meldingen of one person, found by the BSN (the inbox is the only table with it).
SELECT melding_id, gemeente_code, inrichting, datum_binnenkomst, verwachte_einddatum,
       reclassering_betrokken, status, ontvangen_op, bijgewerkt_op
FROM inbox WHERE bsn = :bsn ORDER BY ontvangen_op, melding_id
