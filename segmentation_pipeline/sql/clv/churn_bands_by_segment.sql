-- Customers per segment, and in all, in each churn risk band, with their mean net lifetime value.
WITH valued AS (
    SELECT COALESCE(s.segment_name, 'no segment') AS segment_name, v.churn_band, v.net_clv
    FROM clv.customer_value AS v
    LEFT JOIN segments_on(covered_until('customer_segments')) AS s USING (customer_id)
)
SELECT CASE WHEN GROUPING(segment_name) = 1 THEN 'all customers' ELSE segment_name END AS segment_name,
       count(*) FILTER (WHERE churn_band = 'Low') AS low,
       count(*) FILTER (WHERE churn_band = 'Medium') AS medium,
       count(*) FILTER (WHERE churn_band = 'High') AS high,
       count(*) AS customers,
       avg(net_clv) AS mean_net_clv
FROM valued
GROUP BY ROLLUP (segment_name)
ORDER BY GROUPING(segment_name), customers DESC
