-- The return counts as of now, from every staged event, for scoring a new order: the
-- same definitions as `returns/line_facts.sql` give a line placed after the last staged
-- event. The service adds its order's basket and turns counts into features with
-- `build_features`. Needs the macros of `returns/events.sql`.
CREATE OR REPLACE TABLE returns.customer_state AS
WITH latest_segments AS (
    SELECT customer_id, segment_id, segment_name FROM segments_on(covered_until('customer_segments'))
), latest_rfm AS (
    SELECT r.customer_id, r.r_score, r.f_score, r.m_score, r.rfm_segment, s.recency_days, s.frequency, s.monetary_net
    FROM rfm_on(covered_until('rfm_segments')) AS r
    JOIN snapshot_on(covered_until('rfm_segments')) AS s USING (customer_id)
)
SELECT
    c.*,
    COALESCE(s.segment_name, 'none') AS customer_segment,
    s.segment_id,
    rfm.r_score, rfm.f_score, rfm.m_score, rfm.rfm_segment, rfm.recency_days, rfm.frequency, rfm.monetary_net,
    e.expected_return_rate,
    v.p_alive, v.clv, v.net_clv, v.churn_probability, v.churn_band
FROM customer_counts(TIMESTAMP 'infinity') AS c
LEFT JOIN latest_segments AS s USING (customer_id)
LEFT JOIN latest_rfm AS rfm USING (customer_id)
LEFT JOIN returns.customer_expected_return_rate AS e USING (customer_id)
LEFT JOIN clv.customer_value AS v USING (customer_id);
CREATE OR REPLACE TABLE returns.product_state AS FROM product_counts(TIMESTAMP 'infinity');
CREATE OR REPLACE TABLE returns.category_state AS FROM category_counts(TIMESTAMP 'infinity');
CREATE OR REPLACE TABLE returns.shop_state AS
SELECT *, observed_until() AS observed_until FROM shop_counts(TIMESTAMP 'infinity');
