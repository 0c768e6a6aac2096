SELECT melding_id, soort, team_id, gemeente_code, kanaal, status, reden, verzonden_op
FROM notificatie WHERE melding_id IN :melding_ids ORDER BY melding_id, verzonden_op
