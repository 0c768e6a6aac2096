-- The status resource of the intake API: a melding's processing status and its gemeente (for the
-- sender's scope), never its content.
SELECT melding_id, gemeente_code, status FROM inbox WHERE melding_id = :melding_id
