-- Consent recorded after the check was refused for the lack of it: the next batch asks it (a
-- herhaling, as for an onbekend whose source was down: nazorg.batch.verzamel). Not yet attempted.
UPDATE uitkomst SET volgende_poging = :nu, pogingen = 0
WHERE melding_id = :melding_id AND check_id IN :check_ids
  AND uitkomst = :niet_uitgevoerd AND reden = :geen_toestemming
