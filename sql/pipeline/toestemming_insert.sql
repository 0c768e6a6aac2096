-- One recorded toestemming or overeenkomst for one melding (nazorg.toestemming.vastleggen);
-- recording the same id again changes nothing (the simulator derives its ids).
INSERT INTO toestemming (toestemming_id, melding_id, soort, tekst_versie, vastgelegd_door, vastgelegd_op,
                         geldig_tot, ingetrokken_op, ingetrokken_door)
VALUES (:toestemming_id, :melding_id, :soort, :tekst_versie, :vastgelegd_door, :vastgelegd_op,
        :geldig_tot, NULL, NULL)
ON CONFLICT (toestemming_id) DO NOTHING
