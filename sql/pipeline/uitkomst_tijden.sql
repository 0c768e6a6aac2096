-- When each check of a melding was decided and when an onbekend is asked again: shown on the
-- basisdocument page (nazorg.basisdocument_html), deliberately not part of the published document.
SELECT check_id, bepaald_op, volgende_poging
FROM uitkomst
WHERE melding_id = :melding_id
ORDER BY check_id
