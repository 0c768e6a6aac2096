-- ontvang takes the melding into a per-melding run and claims it for that run (claim
-- 'run:<run_key>', lease claim_tot). Refused (no row) when the melding is blocked, a
-- tombstone (bsn NULL: nazorg.bewaartermijn kept only its ids; nothing is left to check),
-- or a batch chunk holds a live claim on it; the run's own claim, and a claim whose lease
-- has passed, are taken over. A failed (mislukt) melding may be taken up again.
UPDATE inbox SET status = :in_behandeling, claim = :claim, claim_tot = :claim_tot, bijgewerkt_op = :nu
WHERE melding_id = :melding_id AND status <> :geblokkeerd AND bsn IS NOT NULL
  AND (claim IS NULL OR claim = :claim OR claim_tot < :nu)
