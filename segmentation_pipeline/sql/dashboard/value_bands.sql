-- Customers, lifetime value and lifetime value net of expected returns per segment and churn risk band.
SELECT customer_segment AS segment, churn_band, count(*) AS customers, sum(clv) AS clv, sum(net_clv) AS net_clv
FROM returns.customer_state
WHERE churn_band IS NOT NULL
GROUP BY customer_segment, churn_band
ORDER BY segment, churn_band
