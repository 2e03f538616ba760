-- $asset has rewritten the days [$start, $end).
INSERT INTO meta.refreshes (asset, first_day, end_day) VALUES ($asset, $start, $end);
