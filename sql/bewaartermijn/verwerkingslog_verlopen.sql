-- Processing-log records that ended before the given day (the first whose records are still kept).
DELETE FROM verwerkingslog WHERE end_time < :voor
