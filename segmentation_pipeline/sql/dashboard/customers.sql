-- Each segment's 200 customers of highest lifetime value: their scores, next best action, purchases and first
-- three recommended products.
WITH ranked AS (
    SELECT
        s.customer_id,
        s.customer_segment AS segment,
        s.rfm_segment,
        v.clv,
        v.net_clv,
        v.churn_probability,
        v.churn_band,
        v.expected_return_rate,
        s.customer_prior_orders AS orders,
        s.monetary_net AS revenue,
        s.recency_days,
        row_number() OVER (PARTITION BY s.customer_segment ORDER BY v.clv DESC, s.customer_id) AS position
    FROM returns.customer_state AS s
    JOIN clv.customer_value AS v USING (customer_id)
), top_customers AS (
    SELECT * FROM ranked WHERE position <= 200
), first_recommendations AS (
    SELECT l.customer_id,
           concat_ws(', ', max(CASE WHEN l.rank = 1 THEN l.product_id END),
                     max(CASE WHEN l.rank = 2 THEN l.product_id END),
                     max(CASE WHEN l.rank = 3 THEN l.product_id END)) AS recommendations
    FROM recommend.lists AS l
    JOIN top_customers AS t USING (customer_id)
    WHERE l.rank <= 3
    GROUP BY l.customer_id
)
SELECT t.customer_id, t.segment, t.rfm_segment, t.clv, t.net_clv, t.churn_probability, t.churn_band,
       t.expected_return_rate, a.action AS next_best_action, t.orders, t.revenue, t.recency_days, r.recommendations
FROM top_customers AS t
LEFT JOIN recommend.next_best_actions AS a USING (customer_id)
LEFT JOIN first_recommendations AS r USING (customer_id)
ORDER BY t.segment, t.position
