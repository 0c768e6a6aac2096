INSERT INTO bewaartermijn_run (run_id, soort, peildatum, droog, uitgevoerd_op)
VALUES (:run_id, :soort, :peildatum, :droog, :nu)
