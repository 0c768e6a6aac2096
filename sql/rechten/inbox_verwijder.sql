-- Only when the erasure policy says the tombstone goes too.
DELETE FROM inbox WHERE melding_id IN :melding_ids AND bsn IS NULL
