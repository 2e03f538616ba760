-- One row per customer who has ordered: their segment, RFM scores, value, risk and next best action on the
-- latest day, and what they have bought and returned, from the scoring state and the next best actions.
-- The expected return rate is the one the next best action used (the return model's, else the customer's
-- own history smoothed towards the shop's), else the scoring state's.
CREATE SCHEMA IF NOT EXISTS marts;
CREATE OR REPLACE TABLE marts.customers AS
SELECT
    CAST(s.customer_id AS VARCHAR) AS customer_id,
    CAST(s.customer_segment AS VARCHAR) AS segment,
    CAST(s.segment_id AS BIGINT) AS segment_id,
    CAST(s.rfm_segment AS VARCHAR) AS rfm_segment,
    CAST(s.r_score AS BIGINT) AS r_score,
    CAST(s.f_score AS BIGINT) AS f_score,
    CAST(s.m_score AS BIGINT) AS m_score,
    CAST(s.recency_days AS DOUBLE) AS recency_days,
    CAST(s.frequency AS BIGINT) AS frequency,
    CAST(s.monetary_net AS DOUBLE) AS monetary_net,
    CAST(COALESCE(a.expected_return_rate, s.expected_return_rate) AS DOUBLE) AS expected_return_rate,
    CAST(s.p_alive AS DOUBLE) AS p_alive,
    CAST(s.clv AS DOUBLE) AS clv,
    CAST(s.net_clv AS DOUBLE) AS net_clv,
    CAST(s.churn_probability AS DOUBLE) AS churn_probability,
    CAST(s.churn_band AS VARCHAR) AS churn_band,
    CAST(a.action AS VARCHAR) AS next_best_action,
    CAST(a.top_product AS VARCHAR) AS top_recommended_product,
    CAST(s.first_seen_ts AS TIMESTAMP) AS first_seen_ts,
    CAST(s.last_order_ts AS TIMESTAMP) AS last_order_ts,
    CAST(s.customer_prior_orders AS BIGINT) AS orders,
    CAST(s.customer_prior_units AS BIGINT) AS units,
    CAST(s.customer_prior_returned_units AS BIGINT) AS returned_units
FROM returns.customer_state AS s
LEFT JOIN recommend.next_best_actions AS a ON a.customer_id = s.customer_id
WHERE s.customer_prior_orders > 0
ORDER BY s.customer_id;
