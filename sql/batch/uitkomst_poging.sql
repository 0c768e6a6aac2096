-- A retry that failed with its chunk still counts as an attempt: the next one backs off further.
UPDATE uitkomst SET pogingen = :pogingen, volgende_poging = :volgende_poging
WHERE melding_id = :melding_id AND check_id = :check_id
