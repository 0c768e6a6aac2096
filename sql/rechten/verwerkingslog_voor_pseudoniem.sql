-- The processing-log records of one person: by the pseudonym HMAC(current key, BSN).
SELECT name, processing_activity_id, status_code, start_time, end_time, sleutel_id
FROM verwerkingslog WHERE data_subject_id = :pseudoniem ORDER BY start_time, name
