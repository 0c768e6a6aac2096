-- After basisdocument_delete_meldingen in the same transaction.
INSERT INTO basisdocument (melding_id, gemeente_code, status, inhoud, register_versie, bijgewerkt_op)
VALUES (:melding_id, :gemeente_code, :status, :inhoud, :register_versie, :nu)
