-- Net spend per customer and category up to the end of the latest segment day: line value after
-- discounts minus refunds, a refund counted in the category of the returned product.
WITH until AS (SELECT CAST(covered_until('customer_segments') + INTERVAL 1 DAY AS TIMESTAMP) AS end_ts),
product_categories AS (
    SELECT product_id, min(category) AS category FROM staging.transactions
    WHERE category IS NOT NULL GROUP BY product_id
)
SELECT customer_id, category, sum(amount) AS net_spend FROM (
    SELECT customer_id, category, net_amount AS amount FROM staging.transactions
    WHERE category IS NOT NULL AND order_ts < (SELECT end_ts FROM until)
    UNION ALL
    SELECT r.customer_id, p.category, -coalesce(r.refund_amount, 0) AS amount
    FROM staging.returns r JOIN product_categories p USING (product_id)
    WHERE r.return_ts < (SELECT end_ts FROM until)
)
GROUP BY customer_id, category
