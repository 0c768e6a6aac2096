-- The header of the chunk's basisdocumenten (nazorg.basisdocument.kop): what identifies the
-- detention without the BSN, read here so the chunk does not depend on what its caller selected.
SELECT melding_id, inrichting, datum_binnenkomst, verwachte_einddatum
FROM inbox
WHERE melding_id IN :melding_ids
