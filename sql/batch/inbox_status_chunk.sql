-- Where each melding of the chunk ended; only while the chunk still holds it, never out of a block.
UPDATE inbox SET status = :status, bijgewerkt_op = :nu
WHERE melding_id = :melding_id AND claim = :claim AND status <> :geblokkeerd
