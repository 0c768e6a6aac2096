-- Replaced or purged by a chunk in one statement; the rows follow in bulk in the same transaction.
DELETE FROM basisdocument WHERE melding_id IN :melding_ids
