SELECT COUNT(*) AS aantal FROM verwerkingslog WHERE end_time < :voor
