-- $asset has staged the days [$start, $end) of $table: a refresh for the histories, and what the
-- source held for each of those days.
INSERT INTO meta.refreshes (asset, first_day, end_day) VALUES ($asset, $start, $end);
DELETE FROM meta.staged_days WHERE table_name = $table AND day >= $start AND day < $end;
INSERT INTO meta.staged_days
SELECT $table, day, source_rows, fingerprint FROM source_days WHERE day >= $start AND day < $end;
