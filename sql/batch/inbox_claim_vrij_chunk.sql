-- The chunk is done: every melding it still holds is free again (published ones are not due).
UPDATE inbox SET claim = NULL, claim_tot = NULL WHERE claim = :claim
