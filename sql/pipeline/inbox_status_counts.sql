SELECT status, COUNT(*) AS aantal FROM inbox GROUP BY status ORDER BY status
