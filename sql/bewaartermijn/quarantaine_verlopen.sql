-- Quarantine rows registered before the given day (the first whose rows are still kept).
DELETE FROM quarantaine WHERE geregistreerd_op < :voor
