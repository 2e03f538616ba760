-- The daily KPIs the anomaly detection judges, one row per metric and day: the shop's orders, revenue
-- and active customers (0 on a day without orders, up to the latest day with staged events), repeat rate
-- (repeat orders per order) and return rate (returned units per unit; left out until the day's return
-- window of $return_window_days days has closed, as returns are still on their way before), and the size
-- of every segment as `segment_size:<segment>`.
WITH shop AS (
    SELECT day, SUM(active_customers) AS active_customers, SUM(orders) AS orders, SUM(revenue) AS revenue,
           SUM(units) AS units, SUM(returned_units) AS returned_units, SUM(repeat_orders) AS repeat_orders
    FROM marts.daily_kpis
    GROUP BY day
), calendar AS (
    SELECT CAST(UNNEST(GENERATE_SERIES(MIN(day), CAST(observed_until() AS DATE) - 1, INTERVAL 1 DAY)) AS DATE) AS day
    FROM shop
), daily AS (
    SELECT c.day, COALESCE(s.active_customers, 0) AS active_customers, COALESCE(s.orders, 0) AS orders,
           COALESCE(s.revenue, 0) AS revenue, s.units, s.returned_units, s.repeat_orders
    FROM calendar AS c
    LEFT JOIN shop AS s ON s.day = c.day
)
SELECT day, 'orders' AS metric, CAST(orders AS DOUBLE) AS value FROM daily
UNION ALL
SELECT day, 'revenue', revenue FROM daily
UNION ALL
SELECT day, 'active_customers', active_customers FROM daily
UNION ALL
SELECT day, 'repeat_rate', repeat_orders / orders FROM daily WHERE orders > 0
UNION ALL
SELECT day, 'return_rate', returned_units / units FROM daily
WHERE units > 0 AND day <= (SELECT MAX(day) FROM calendar) - $return_window_days
UNION ALL
SELECT day, 'segment_size:' || segment, customers FROM marts.segment_sizes
ORDER BY metric, day
