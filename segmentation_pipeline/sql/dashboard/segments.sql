-- Each segment of the latest segmentation: its size, profile and the mean lifetime value and churn risk of its
-- customers.
WITH valued AS (
    SELECT customer_segment AS segment, avg(clv) AS mean_clv, avg(net_clv) AS mean_net_clv,
           avg(churn_probability) AS mean_churn_probability
    FROM returns.customer_state
    GROUP BY customer_segment
)
SELECT
    p.segment_name AS segment,
    p.customers,
    p.median_recency_days,
    p.mean_frequency,
    p.mean_monetary_net,
    p.mean_avg_order_value,
    p.mean_units_per_order,
    p.mean_discount_share,
    p.return_rate,
    v.mean_clv,
    v.mean_net_clv,
    v.mean_churn_probability
FROM segments.segment_profiles AS p
LEFT JOIN valued AS v ON v.segment = p.segment_name
ORDER BY p.customers DESC, p.segment_name
