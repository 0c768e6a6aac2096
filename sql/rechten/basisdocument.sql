SELECT melding_id, gemeente_code, status, register_versie, bijgewerkt_op
FROM basisdocument WHERE melding_id IN :melding_ids ORDER BY melding_id
