-- Published: the run's claim ends with it. Blocking is final (no way out of geblokkeerd).
UPDATE inbox SET status = :gepubliceerd, claim = NULL, claim_tot = NULL, bijgewerkt_op = :nu
WHERE melding_id = :melding_id AND status <> :geblokkeerd
