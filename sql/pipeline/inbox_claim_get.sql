-- Why ontvang's claim was refused: blocked, or claimed by someone else.
SELECT status, claim, claim_tot FROM inbox WHERE melding_id = :melding_id
