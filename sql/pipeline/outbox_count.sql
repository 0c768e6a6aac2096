SELECT COUNT(*) AS aantal FROM outbox
