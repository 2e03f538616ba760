-- What each customer bought in [$start, $end): units per product, and the units of those order
-- lines returned since (returns matched to the window's orders).
WITH bought AS (
    SELECT customer_id, product_id, order_id, SUM(quantity) AS units
    FROM staging.transactions
    WHERE order_ts >= $start AND order_ts < $end AND product_id IS NOT NULL AND customer_id IS NOT NULL
    GROUP BY ALL
), returned AS (
    SELECT order_id, product_id, SUM(quantity) AS returned_units
    FROM staging.returns
    WHERE order_id IN (SELECT order_id FROM bought)
    GROUP BY ALL
)
SELECT b.customer_id, b.product_id, SUM(b.units) AS units,
       SUM(LEAST(COALESCE(r.returned_units, 0), b.units)) AS returned_units
FROM bought AS b
LEFT JOIN returned AS r USING (order_id, product_id)
GROUP BY b.customer_id, b.product_id
