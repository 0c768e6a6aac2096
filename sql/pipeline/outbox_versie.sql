-- The published versie of one melding and where its file output is.
SELECT inhoud, bestand, versie FROM outbox WHERE melding_id = :melding_id
