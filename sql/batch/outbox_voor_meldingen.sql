-- What is published for the chunk's meldingen: an unchanged document is not published again.
SELECT melding_id, inhoud, versie FROM outbox WHERE melding_id IN :melding_ids
