-- The checks a consent record covers go before the record (revision 0009's toestemming_check).
DELETE FROM toestemming_check
WHERE toestemming_id IN (SELECT toestemming_id FROM toestemming WHERE melding_id IN :melding_ids)
