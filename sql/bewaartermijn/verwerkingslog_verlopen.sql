-- Processing-log records that ended before :voor (the first day whose records are still kept).
DELETE FROM verwerkingslog WHERE end_time < :voor
