-- Every consent record of one melding with the checks it covers, withdrawn ones included.
SELECT t.toestemming_id, t.soort, t.tekst_versie, t.vastgelegd_door, t.vastgelegd_op, t.geldig_tot,
       t.ingetrokken_op, t.ingetrokken_door, c.check_id
FROM toestemming t
LEFT JOIN toestemming_check c ON c.toestemming_id = t.toestemming_id
WHERE t.melding_id = :melding_id
ORDER BY t.vastgelegd_op, t.toestemming_id, c.check_id
