-- One row per day and segment held by at least one customer: the customers holding the segment at the
-- end of the day (as `segments_on(day)` counts them), up to the latest day segmented. Each change of a
-- customer's segment adds one to the new segment and takes one from the old, so the sizes are running
-- sums of the changes, not a pass over customers x days.
CREATE SCHEMA IF NOT EXISTS marts;
CREATE OR REPLACE TABLE marts.segment_sizes AS
WITH spans AS (
    SELECT segment_name AS segment, as_of_day AS valid_from,
           LEAD(as_of_day) OVER (PARTITION BY customer_id ORDER BY as_of_day) AS valid_until
    FROM segments.segment_history
), changes AS (
    SELECT day, segment, SUM(change) AS change
    FROM (
        SELECT valid_from AS day, segment, 1 AS change FROM spans WHERE segment IS NOT NULL
        UNION ALL
        SELECT valid_until, segment, -1 FROM spans WHERE segment IS NOT NULL AND valid_until IS NOT NULL
    ) AS moves
    GROUP BY day, segment
), days AS (
    SELECT CAST(UNNEST(GENERATE_SERIES(MIN(day), covered_until('customer_segments'), INTERVAL 1 DAY)) AS DATE) AS day
    FROM changes
), sizes AS (
    SELECT d.day, n.segment,
           CAST(SUM(COALESCE(c.change, 0)) OVER (PARTITION BY n.segment ORDER BY d.day) AS BIGINT) AS customers
    FROM days AS d
    CROSS JOIN (SELECT DISTINCT segment FROM changes) AS n
    LEFT JOIN changes AS c ON c.day = d.day AND c.segment = n.segment
)
SELECT day, segment, customers
FROM sizes
WHERE customers > 0
ORDER BY day, segment;
