-- The return counts as of now, from every staged event, for scoring a new order: the
-- same definitions as `returns/line_facts.sql` give a line placed after the last staged
-- event. The service adds its order's basket and turns counts into features with
-- `build_features`. Needs the macros of `returns/events.sql`.
CREATE OR REPLACE TEMP TABLE scoring_events AS FROM return_events(TIMESTAMP 'infinity');
CREATE OR REPLACE TABLE returns.customer_state AS
WITH activity AS (
    SELECT customer_id, COUNT(DISTINCT order_id) AS orders, SUM(lines) AS lines, SUM(bought_units) AS bought_units,
           SUM(returns) AS returns, SUM(returned_units) AS returned_units, SUM(contacts) AS contacts,
           MIN(ts) FILTER (WHERE order_id IS NOT NULL) AS first_order_ts,
           MAX(ts) FILTER (WHERE order_id IS NOT NULL) AS last_order_ts
    FROM scoring_events GROUP BY customer_id
), latest_segments AS (
    SELECT customer_id, segment_id, segment_name FROM segments_on(covered_until('customer_segments'))
), latest_rfm AS (
    SELECT r.customer_id, r.r_score, r.f_score, r.m_score, r.rfm_segment, s.recency_days, s.frequency, s.monetary_net
    FROM rfm_on(covered_until('rfm_segments')) AS r
    JOIN snapshot_on(covered_until('rfm_segments')) AS s USING (customer_id)
)
SELECT
    customer_id,
    CAST(COALESCE(a.orders, 0) AS BIGINT) AS customer_prior_orders,
    CAST(COALESCE(a.bought_units, 0) AS BIGINT) AS customer_prior_units,
    CAST(COALESCE(a.returned_units, 0) AS BIGINT) AS customer_prior_returned_units,
    CAST(COALESCE(a.lines, 0) AS BIGINT) AS customer_prior_lines,
    CAST(COALESCE(a.returns, 0) AS BIGINT) AS customer_prior_returns,
    LEAST(c.signup_ts, a.first_order_ts) AS first_seen_ts,
    a.last_order_ts,
    CAST(COALESCE(a.contacts, 0) AS BIGINT) AS customer_prior_contacts,
    COALESCE(s.segment_name, 'none') AS customer_segment,
    s.segment_id,
    rfm.r_score, rfm.f_score, rfm.m_score, rfm.rfm_segment, rfm.recency_days, rfm.frequency, rfm.monetary_net,
    e.expected_return_rate,
    v.p_alive, v.clv, v.net_clv, v.churn_probability, v.churn_band
FROM activity AS a
FULL JOIN staging.customers AS c USING (customer_id)
LEFT JOIN latest_segments AS s USING (customer_id)
LEFT JOIN latest_rfm AS rfm USING (customer_id)
LEFT JOIN returns.customer_expected_return_rate AS e USING (customer_id)
LEFT JOIN clv.customer_value AS v USING (customer_id);
CREATE OR REPLACE TABLE returns.product_state AS
SELECT
    e.product_id,
    COALESCE(p.category, 'unknown') AS category,
    CAST(SUM(e.bought_units) AS BIGINT) AS product_prior_units,
    CAST(SUM(e.returned_units) AS BIGINT) AS product_prior_returned_units,
    CAST(SUM(e.lines) AS BIGINT) AS product_prior_lines,
    CAST(SUM(e.returns) AS BIGINT) AS product_prior_returns,
    CAST(SUM(CAST(e.unit_price AS DECIMAL(18, 6))) AS DOUBLE) / COUNT(e.unit_price) AS product_usual_price
FROM scoring_events AS e
LEFT JOIN product_categories(TIMESTAMP 'infinity') AS p USING (product_id)
WHERE e.product_id IS NOT NULL
GROUP BY ALL;
CREATE OR REPLACE TABLE returns.category_state AS
SELECT
    category,
    CAST(SUM(bought_units) AS BIGINT) AS category_prior_units,
    CAST(SUM(returned_units) AS BIGINT) AS category_prior_returned_units
FROM scoring_events
WHERE category IS NOT NULL
GROUP BY category;
CREATE OR REPLACE TABLE returns.shop_state AS
SELECT
    CAST(COALESCE(SUM(bought_units), 0) AS BIGINT) AS shop_prior_units,
    CAST(COALESCE(SUM(returned_units), 0) AS BIGINT) AS shop_prior_returned_units,
    CAST(COALESCE(SUM(lines), 0) AS BIGINT) AS shop_prior_lines,
    CAST(COALESCE(SUM(returns), 0) AS BIGINT) AS shop_prior_returns,
    observed_until() AS observed_until
FROM scoring_events;
DROP TABLE scoring_events;
