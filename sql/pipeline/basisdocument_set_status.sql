UPDATE basisdocument SET status = :status, bijgewerkt_op = :nu WHERE melding_id = :melding_id
