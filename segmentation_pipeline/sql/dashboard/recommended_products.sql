-- The 20 products on most recommendation lists of each segment's customers (a product is on a customer's list at
-- most once), with the mean predicted return probability of the recommendation.
WITH listed AS (
    SELECT c.customer_segment AS segment, l.product_id, count(*) AS customers, avg(l.return_risk) AS return_risk
    FROM recommend.lists AS l
    JOIN returns.customer_state AS c USING (customer_id)
    GROUP BY c.customer_segment, l.product_id
), ranked AS (
    SELECT *, row_number() OVER (PARTITION BY segment ORDER BY customers DESC, product_id) AS position
    FROM listed
)
SELECT r.segment, r.product_id, COALESCE(p.category, 'unknown') AS category, r.customers, r.return_risk
FROM ranked AS r
LEFT JOIN returns.product_state AS p USING (product_id)
WHERE r.position <= 20
ORDER BY r.segment, r.position
