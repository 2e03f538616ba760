-- Orders per day from $first to $last (0 on days without orders): the value, and the events it counts (the same).
SELECT days.day, COALESCE(orders.n, 0) AS orders, COALESCE(orders.n, 0) AS events
FROM (SELECT CAST(generate_series AS DATE) AS day FROM generate_series($first, $last, INTERVAL 1 DAY)) AS days
LEFT JOIN (
    SELECT _partition_date AS day, count(DISTINCT order_id) AS n FROM staging.transactions GROUP BY 1
) AS orders USING (day)
ORDER BY 1
