-- Customers who bought or returned anything after the day $since: their lists are out of date.
SELECT customer_id FROM staging.transactions WHERE order_ts >= CAST($since AS DATE) + 1
UNION
SELECT customer_id FROM staging.returns WHERE return_ts >= CAST($since AS DATE) + 1
