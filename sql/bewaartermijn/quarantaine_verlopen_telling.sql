SELECT COUNT(*) AS aantal FROM quarantaine WHERE geregistreerd_op < :voor
