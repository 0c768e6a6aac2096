-- What the retention clock needs per melding (no BSN): its dates, whether it is a tombstone
-- already, whether a run holds it now, and the laatstedagsmelding's datum_uitstroom if any.
SELECT i.melding_id, i.gemeente_code, i.ontvangen_op, i.datum_binnenkomst, i.verwachte_einddatum,
       i.bijgewerkt_op, i.claim_tot,
       CASE WHEN i.bsn IS NULL THEN 1 ELSE 0 END AS grafsteen,
       l.datum_uitstroom
FROM inbox i
LEFT JOIN laatstedagsmelding l ON l.melding_id = i.melding_id
