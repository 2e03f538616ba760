-- Who bought which product in the lookback window before $cutoff, and whether within the exclusion
-- window (bought on or after $recent_start: not to be recommended again).
SELECT customer_id, product_id, max(order_ts) >= $recent_start AS recent
FROM staging.transactions
WHERE order_ts >= $lookback_start AND order_ts < $cutoff AND product_id IS NOT NULL AND customer_id IS NOT NULL
GROUP BY customer_id, product_id
