-- Withdraw one consent of one melding; a withdrawn one stays withdrawn (the first moment counts).
UPDATE toestemming SET ingetrokken_op = :nu, ingetrokken_door = :ingetrokken_door
WHERE toestemming_id = :toestemming_id AND melding_id = :melding_id AND ingetrokken_op IS NULL
