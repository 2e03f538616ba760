-- The days $asset must recompute: from the first day any of its inputs ($inputs) rewrote since
-- its own last refresh, to the end of what either has covered (a history depends on every
-- earlier day, so all its later days follow). No row of inputs rewritten since: NULL.
WITH own AS (
    SELECT max(refresh) AS last_refresh, max(end_day) AS covered FROM meta.refreshes WHERE asset = $asset
), rewritten AS (
    SELECT min(r.first_day) AS first_day, max(r.end_day) AS end_day
    FROM meta.refreshes AS r, own
    WHERE list_contains($inputs, r.asset) AND r.refresh > COALESCE(own.last_refresh, -1)
)
SELECT rewritten.first_day, greatest(rewritten.end_day, COALESCE(own.covered, rewritten.end_day)) AS end_day
FROM rewritten, own
