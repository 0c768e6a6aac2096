-- Where the chunk's meldingen ended, one statement per status; only while the chunk still holds
-- them, never out of a block.
UPDATE inbox SET status = :status, bijgewerkt_op = :nu
WHERE melding_id IN :melding_ids AND claim = :claim AND status <> :geblokkeerd
