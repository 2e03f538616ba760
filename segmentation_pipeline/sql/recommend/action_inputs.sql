-- Every customer who has bought, with what the next best action rules read: segment, churn band,
-- lifetime value, return counts, the latest campaign when they are in its uplift audience, and the
-- first product of their recommendation list.
SELECT
    s.customer_id, s.customer_segment AS segment, s.churn_band, s.clv, s.net_clv, s.expected_return_rate,
    s.customer_prior_units, s.customer_prior_returned_units, u.campaign_id, l.top_product
FROM returns.customer_state AS s
LEFT JOIN (
    SELECT customer_id, campaign_id FROM campaigns.uplift_audience
    WHERE campaign_id = latest_campaign()
) AS u USING (customer_id)
LEFT JOIN (SELECT customer_id, arg_min(product_id, rank) AS top_product FROM recommend.lists GROUP BY 1)
    AS l USING (customer_id)
WHERE s.customer_prior_orders > 0
ORDER BY s.customer_id
