-- Claim, in one conditional statement, every melding a batch should take (nazorg.batch.verzamel):
-- not yet published (ontvangen; in_behandeling whose run or chunk was lost), or published with an
-- onbekend outcome due for retry, or with a check refused for lack of consent that was recorded
-- since (nazorg.toestemming marks it due: uitkomst_herhaal_toestemming). A live claim (claim_tot not yet passed) is never taken: a
-- concurrent batch or per-melding run keeps its meldingen. On PostgreSQL a concurrent claimer
-- waits for the row lock and then re-checks this WHERE clause against the committed row.
-- A tombstone (bsn NULL, nazorg.bewaartermijn) is never taken: retention closes an unfinished
-- one as mislukt and deletes its outcomes, so the status clauses exclude it already; the bsn
-- guard says so outright and keeps holding if those clauses change.
UPDATE inbox SET claim = :token, claim_tot = :claim_tot
WHERE (claim IS NULL OR claim_tot < :nu)
  AND bsn IS NOT NULL
  AND (
    status IN (:ontvangen, :in_behandeling)
    OR (
      status = :gepubliceerd
      AND EXISTS (
        SELECT 1 FROM uitkomst u
        WHERE u.melding_id = inbox.melding_id
          AND (u.uitkomst = :onbekend OR (u.uitkomst = :niet_uitgevoerd AND u.reden = :geen_toestemming))
          AND u.volgende_poging IS NOT NULL
          AND u.volgende_poging <= :nu
          AND u.pogingen < :max_pogingen
      )
    )
  )
