-- Net spend per customer and month of purchase: all the cohort tables need.
SELECT customer_id, date_trunc('month', order_ts) AS order_ts, SUM(net_amount) AS net_amount
FROM staging.transactions
GROUP BY ALL
