SELECT quarantaine_id, melding_id, herkomst, fase, reden_code, veld, expectation, geregistreerd_op
FROM quarantaine
ORDER BY geregistreerd_op, quarantaine_id
