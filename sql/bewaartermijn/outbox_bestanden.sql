-- The JSON files a per-melding publication wrote, to remove before their rows go.
SELECT melding_id, bestand FROM outbox WHERE melding_id IN :melding_ids AND bestand IS NOT NULL
