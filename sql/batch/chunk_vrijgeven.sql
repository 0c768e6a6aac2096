-- End this chunk's claim on one melding (nothing left to do for it).
UPDATE inbox SET claim = NULL, claim_tot = NULL WHERE claim = :claim AND melding_id = :melding_id
