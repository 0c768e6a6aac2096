-- One row per send attempt: a failed attempt stays on record next to the later success.
INSERT INTO notificatie (notificatie_id, melding_id, soort, team_id, gemeente_code, kanaal, status,
                         reden, verzonden_op)
VALUES (:notificatie_id, :melding_id, :soort, :team_id, :gemeente_code, :kanaal, :status, :reden, :nu)
