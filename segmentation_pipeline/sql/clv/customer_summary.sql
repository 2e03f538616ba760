-- Each customer who had bought by the end of $as_of, as the purchase and spend models see them, from
-- the customer history: repeat purchases counted per day (x), the time from the first to the last
-- purchase day (t_x) and from the first purchase day to $as_of (T), both in units of $unit_days days,
-- and the mean spend of the repeat purchase days (m). With a later $holdout_end, also the purchase
-- days after $as_of up to the end of it (x_holdout, otherwise 0). Then the day's snapshot columns.
WITH observed AS (
    SELECT * FROM snapshot_on(CAST($as_of AS DATE))
), holdout AS (
    SELECT customer_id, purchase_days FROM snapshot_on(CAST($holdout_end AS DATE))
)
SELECT
    o.customer_id,
    o.purchase_days - 1 AS x,
    date_diff('day', CAST(o.first_purchase_ts AS DATE), CAST(o.last_purchase_ts AS DATE)) / $unit_days AS t_x,
    date_diff('day', CAST(o.first_purchase_ts AS DATE), CAST($as_of AS DATE)) / $unit_days AS T,
    CASE WHEN o.purchase_days > 1 THEN o.repeat_spend / (o.purchase_days - 1) END AS m,
    COALESCE(h.purchase_days - o.purchase_days, 0) AS x_holdout,
    o.* EXCLUDE (customer_id)
FROM observed AS o
LEFT JOIN holdout AS h USING (customer_id)
ORDER BY o.customer_id
