-- Customers per segment and cell of the latest RFM recency x frequency grid.
SELECT customer_segment AS segment, r_score, f_score, count(*) AS customers
FROM returns.customer_state
WHERE r_score IS NOT NULL AND f_score IS NOT NULL
GROUP BY customer_segment, r_score, f_score
ORDER BY segment, r_score, f_score
