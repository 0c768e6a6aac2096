-- Quarantine rows registered before :voor (the first day whose rows are still kept).
DELETE FROM quarantaine WHERE geregistreerd_op < :voor
