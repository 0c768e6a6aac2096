-- The first statement of the transaction that closes a failed run: like inbox_blokkeer
-- it takes the row lock, so a concurrent write waits for the purge and is then refused.
-- Only a melding still in a run is closed; a blocked, published or already failed one
-- keeps its state (and gets no second quarantine row). So is one that someone else holds
-- under a live claim (a batch chunk while a per-melding run fails, or the other way round):
-- only the closer's own claim (parameter claim), no claim, or one whose lease has passed. The claim ends.
UPDATE inbox SET status = :mislukt, claim = NULL, claim_tot = NULL, bijgewerkt_op = :nu
WHERE melding_id = :melding_id AND status IN (:ontvangen, :in_behandeling)
  AND (claim IS NULL OR claim = :claim OR claim_tot < :nu)
