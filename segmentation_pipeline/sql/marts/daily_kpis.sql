-- One row per day and segment: the customers who ordered that day, their orders, revenue net of
-- discounts, units, the units of those orders returned since (returns matched to orders by order_id)
-- and the orders of customers who had ordered before. An order's day is the day its first line was
-- placed; its segment is the customer's segment on that day (as `segments_on` gives it), else 'none'.
CREATE SCHEMA IF NOT EXISTS marts;
CREATE OR REPLACE TABLE marts.daily_kpis AS
WITH orders AS (
    SELECT order_id, customer_id, MIN(order_ts) AS placed_ts, SUM(net_amount) AS revenue, SUM(quantity) AS units
    FROM staging.transactions
    GROUP BY order_id, customer_id
), returned AS (
    SELECT order_id, SUM(quantity) AS returned_units
    FROM staging.returns
    WHERE order_id IS NOT NULL
    GROUP BY order_id
), customer_days AS (
    SELECT o.customer_id, CAST(o.placed_ts AS DATE) AS day, COUNT(*) AS orders, SUM(o.revenue) AS revenue,
           SUM(o.units) AS units, SUM(r.returned_units) AS returned_units,
           COUNT(*) FILTER (WHERE o.placed_ts > f.first_ts) AS repeat_orders
    FROM orders AS o
    JOIN (SELECT customer_id, MIN(placed_ts) AS first_ts FROM orders GROUP BY customer_id) AS f
        ON f.customer_id = o.customer_id
    LEFT JOIN returned AS r ON r.order_id = o.order_id
    GROUP BY o.customer_id, CAST(o.placed_ts AS DATE)
), segment_spans AS (
    SELECT customer_id, segment_name, as_of_day AS valid_from,
           LEAD(as_of_day) OVER (PARTITION BY customer_id ORDER BY as_of_day) AS valid_until
    FROM segments.segment_history
)
SELECT
    c.day,
    COALESCE(s.segment_name, 'none') AS segment,
    COUNT(*) AS active_customers,
    CAST(SUM(c.orders) AS BIGINT) AS orders,
    CAST(SUM(c.revenue) AS DOUBLE) AS revenue,
    CAST(SUM(c.units) AS BIGINT) AS units,
    CAST(COALESCE(SUM(c.returned_units), 0) AS BIGINT) AS returned_units,
    CAST(SUM(c.repeat_orders) AS BIGINT) AS repeat_orders
FROM customer_days AS c
LEFT JOIN segment_spans AS s
    ON s.customer_id = c.customer_id AND c.day >= s.valid_from AND (c.day < s.valid_until OR s.valid_until IS NULL)
GROUP BY c.day, COALESCE(s.segment_name, 'none')
ORDER BY c.day, segment;
