-- Every customer who has bought, with the targeting features of `campaigns/exposures.sql` as of the
-- latest day of customer history: the candidates of the next send.
SELECT customer_id, recency_days, tenure_days, frequency, purchase_days, monetary_net AS pre_spend, avg_order_value,
       mean_days_between_orders, return_rate_units, discount_share, service_contacts, campaign_responses,
       category_breadth
FROM snapshot_on(covered_until('customer_history'))
ORDER BY customer_id
