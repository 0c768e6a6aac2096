-- Hand a range of the batch's meldingen (in the database's own order) to one chunk.
UPDATE inbox SET claim = :claim
WHERE claim = :token AND melding_id >= :eerste AND melding_id <= :laatste
