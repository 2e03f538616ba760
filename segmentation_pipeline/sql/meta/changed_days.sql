-- Days of [$start, $end) whose source rows (`source_days`) differ from those last staged for $table:
-- new days, days with a changed, added or lost row, and days the source no longer has. A table
-- without event days has one row of day NULL.
SELECT COALESCE(s.day, d.day) AS day
FROM source_days AS s
FULL JOIN (
    SELECT day, fingerprint FROM meta.staged_days
    WHERE table_name = $table AND (day IS NULL OR (day >= $start AND day < $end))
) AS d ON d.day IS NOT DISTINCT FROM s.day
WHERE s.fingerprint IS DISTINCT FROM d.fingerprint
ORDER BY 1
