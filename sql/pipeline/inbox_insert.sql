-- A melding is stored once; a second submission of the same melding_id changes nothing.
-- run_key: the opaque key Airflow sees instead of the melding_id (nazorg.run_key).
INSERT INTO inbox (melding_id, run_key, bsn, gemeente_code, inrichting, datum_binnenkomst,
                   verwachte_einddatum, reclassering_betrokken, inhoud_hash, status,
                   ontvangen_op, bijgewerkt_op)
VALUES (:melding_id, :run_key, :bsn, :gemeente_code, :inrichting, :datum_binnenkomst,
        :verwachte_einddatum, :reclassering_betrokken, :inhoud_hash, :status,
        :nu, :nu)
ON CONFLICT (melding_id) DO NOTHING
