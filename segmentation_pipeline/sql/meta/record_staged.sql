-- $table has been staged for the days [$start, $end): remember what the source held for each of
-- them (a table without event days: for the whole table, day NULL).
DELETE FROM meta.staged_days WHERE table_name = $table AND (day IS NULL OR (day >= $start AND day < $end));
INSERT INTO meta.staged_days
SELECT $table, day, source_rows, fingerprint FROM source_days WHERE day IS NULL OR (day >= $start AND day < $end);
