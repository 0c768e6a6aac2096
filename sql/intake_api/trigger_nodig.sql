-- Does the melding of this run key still wait for a run? (nazorg.intake_api retries its trigger only then.)
-- ontvangen and no live claim: a batch chunk or a per-melding run that holds a claim takes care of it.
SELECT run_key FROM inbox
WHERE run_key = :run_key AND status = :ontvangen AND (claim IS NULL OR claim_tot < :nu)
