-- Consent withdrawn: the check's outcome goes (no answer, no contact kept) and it is recorded as
-- not performed for the lack of consent; no retry is due.
UPDATE uitkomst
SET uitkomst = :niet_uitgevoerd, reden = :geen_toestemming, dossierverantwoordelijke = NULL,
    contact_herkomst = NULL,
    bepaald_op = :nu, pogingen = 0, volgende_poging = NULL
WHERE melding_id = :melding_id AND check_id IN :check_ids
