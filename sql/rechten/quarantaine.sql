SELECT melding_id, herkomst, fase, reden_code, veld, expectation, geregistreerd_op
FROM quarantaine WHERE melding_id IN :melding_ids ORDER BY melding_id, geregistreerd_op
