SELECT melding_id, run_key, bsn, gemeente_code, inrichting, datum_binnenkomst, verwachte_einddatum,
       reclassering_betrokken, status
FROM inbox
WHERE melding_id = :melding_id
