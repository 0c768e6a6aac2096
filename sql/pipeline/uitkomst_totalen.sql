-- Aggregate counts for operators; never one person's outcome.
SELECT check_id, uitkomst, COUNT(*) AS aantal
FROM uitkomst
GROUP BY check_id, uitkomst
ORDER BY check_id, uitkomst
