-- Records made under another (or an unrecorded) key: they cannot be matched to anyone without it.
SELECT COUNT(*) AS aantal FROM verwerkingslog
WHERE (sleutel_id IS NULL OR sleutel_id <> :sleutel_id) AND data_subject_id <> :pseudoniem
