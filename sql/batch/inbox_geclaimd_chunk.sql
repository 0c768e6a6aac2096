-- The meldingen a chunk still holds before it asks any source: a finished chunk run again asks nothing.
SELECT melding_id FROM inbox WHERE claim = :claim AND status <> :geblokkeerd
