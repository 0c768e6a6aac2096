-- A melding whose every term has run keeps a tombstone: ids, gemeente, status and times only.
-- The content hash goes too: it is an unkeyed hash over the melding with its BSN, so the BSN
-- could be found again by trying them all. A re-sent melding with this id is then a
-- melding_id_conflict in quarantine, never processed again. A melding that never finished
-- (ontvangen, in_behandeling) is closed as mislukt: the batch claims those, and must not
-- take up a melding without a BSN years late.
UPDATE inbox
SET bsn = NULL, inrichting = NULL, datum_binnenkomst = NULL, verwachte_einddatum = NULL,
    reclassering_betrokken = NULL, inhoud_hash = 'verwijderd', claim = NULL, claim_tot = NULL,
    status = CASE WHEN status IN (:ontvangen, :in_behandeling) THEN :mislukt ELSE status END,
    bijgewerkt_op = :nu
WHERE melding_id IN :melding_ids AND bsn IS NOT NULL
