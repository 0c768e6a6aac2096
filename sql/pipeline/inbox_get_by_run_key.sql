-- A run knows only its run key; every step finds its melding through it.
SELECT melding_id, run_key, bsn, gemeente_code, inrichting, datum_binnenkomst, verwachte_einddatum,
       reclassering_betrokken, status
FROM inbox
WHERE run_key = :run_key
