-- The first statement of the transaction that closes a failed run: like inbox_blokkeer
-- it takes the row lock, so a concurrent write waits for the purge and is then refused.
-- Only a melding still in a run is closed; a blocked, published or already failed one
-- keeps its state (and gets no second quarantine row).
UPDATE inbox SET status = :mislukt, bijgewerkt_op = :nu
WHERE melding_id = :melding_id AND status IN (:ontvangen, :in_behandeling)
