-- End whatever claim this chunk still has (after it failed and closed what it could).
UPDATE inbox SET claim = NULL, claim_tot = NULL WHERE claim = :claim
