INSERT INTO bewaartermijn_telling (run_id, categorie, aantal) VALUES (:run_id, :categorie, :aantal)
