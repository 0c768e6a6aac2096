INSERT INTO basisdocument (melding_id, gemeente_code, status, inhoud, register_versie, bijgewerkt_op)
VALUES (:melding_id, :gemeente_code, :status, :inhoud, :register_versie, :nu)
ON CONFLICT (melding_id) DO UPDATE
SET gemeente_code = excluded.gemeente_code, status = excluded.status, inhoud = excluded.inhoud,
    register_versie = excluded.register_versie, bijgewerkt_op = excluded.bijgewerkt_op
