-- A tombstone whose processing-log term has run since it was made goes as well.
DELETE FROM inbox WHERE melding_id IN :melding_ids AND bsn IS NULL
