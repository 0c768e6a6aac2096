-- Blocking is final: no status change leads out of it (only inbox_blokkeer leads in).
UPDATE inbox SET status = :status, bijgewerkt_op = :nu
WHERE melding_id = :melding_id AND status <> :geblokkeerd
