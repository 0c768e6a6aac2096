-- A chunk that starts renews the lease on what it still holds (never shortens it): a chunk that
-- waited in a queue keeps its meldingen for a whole lease from its start.
UPDATE inbox SET claim_tot = :claim_tot WHERE claim = :claim AND claim_tot < :claim_tot
