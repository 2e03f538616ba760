-- The orders, net revenue and returned units per month of the customers in the dashboard's customer table
-- (`dashboard_customers`, the frame built from `customers.sql`); returns count in the month they came back.
WITH shown AS (
    SELECT DISTINCT customer_id FROM dashboard_customers
), activity AS (
    SELECT t.customer_id, date_trunc('month', t.order_ts) AS month, count(DISTINCT t.order_id) AS orders,
           sum(t.net_amount) AS revenue, 0 AS returned_units
    FROM staging.transactions AS t
    JOIN shown USING (customer_id)
    GROUP BY t.customer_id, date_trunc('month', t.order_ts)
    UNION ALL
    SELECT r.customer_id, date_trunc('month', r.return_ts), 0, 0, sum(r.quantity)
    FROM staging.returns AS r
    JOIN shown USING (customer_id)
    GROUP BY r.customer_id, date_trunc('month', r.return_ts)
)
SELECT customer_id, strftime(month, '%Y-%m') AS month, sum(orders) AS orders, sum(revenue) AS revenue,
       sum(returned_units) AS returned_units
FROM activity
GROUP BY customer_id, month
ORDER BY customer_id, month
