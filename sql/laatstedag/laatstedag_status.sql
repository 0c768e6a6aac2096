-- Only out of `ontvangen`: a settled laatstedagsmelding is never reopened by a late run.
UPDATE laatstedagsmelding SET status = :status
WHERE melding_id = :melding_id AND status = :ontvangen
