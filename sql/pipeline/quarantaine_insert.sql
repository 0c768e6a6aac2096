INSERT INTO quarantaine (quarantaine_id, melding_id, herkomst, fase, reden_code, veld,
                         expectation, geregistreerd_op)
VALUES (:quarantaine_id, :melding_id, :herkomst, :fase, :reden_code, :veld, :expectation, :nu)
