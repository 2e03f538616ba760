-- One row per segment of today's customers (`none` for those not segmented): its size and share of the
-- customers who have ordered, the profile of `segments.segment_profiles` and the mean value, churn risk and
-- expected return rate of its customers in `marts.customers`.
CREATE SCHEMA IF NOT EXISTS marts;
CREATE OR REPLACE TABLE marts.segments AS
WITH members AS (
    SELECT segment, MIN(segment_id) AS segment_id, COUNT(*) AS customers, AVG(clv) AS mean_clv,
           AVG(net_clv) AS mean_net_clv, AVG(churn_probability) AS mean_churn_probability,
           AVG(expected_return_rate) AS mean_expected_return_rate
    FROM marts.customers
    GROUP BY segment
)
SELECT
    CAST(m.segment AS VARCHAR) AS segment,
    CAST(m.segment_id AS BIGINT) AS segment_id,
    CAST(m.customers AS BIGINT) AS customers,
    CAST(m.customers AS DOUBLE) / SUM(m.customers) OVER () AS share_customers,
    CAST(p.as_of_day AS DATE) AS profiled_on,
    CAST(p.revenue_share AS DOUBLE) AS revenue_share,
    CAST(p.mean_recency_days AS DOUBLE) AS mean_recency_days,
    CAST(p.mean_frequency AS DOUBLE) AS mean_frequency,
    CAST(p.mean_monetary_net AS DOUBLE) AS mean_monetary_net,
    CAST(p.mean_avg_order_value AS DOUBLE) AS mean_avg_order_value,
    CAST(p.mean_units_per_order AS DOUBLE) AS mean_units_per_order,
    CAST(p.mean_discount_share AS DOUBLE) AS mean_discount_share,
    CAST(p.return_rate AS DOUBLE) AS mean_unit_return_rate,
    CAST(p.mean_tenure_days AS DOUBLE) AS mean_tenure_days,
    CAST(p.mean_category_breadth AS DOUBLE) AS mean_category_breadth,
    CAST(p.mean_service_contacts AS DOUBLE) AS mean_service_contacts,
    CAST(p.mean_campaign_responses AS DOUBLE) AS mean_campaign_responses,
    CAST(p.top_categories AS VARCHAR) AS top_categories,
    CAST(p.recommended_action AS VARCHAR) AS recommended_action,
    CAST(m.mean_clv AS DOUBLE) AS mean_clv,
    CAST(m.mean_net_clv AS DOUBLE) AS mean_net_clv,
    CAST(m.mean_churn_probability AS DOUBLE) AS mean_churn_probability,
    CAST(m.mean_expected_return_rate AS DOUBLE) AS mean_expected_return_rate
FROM members AS m
LEFT JOIN segments.segment_profiles AS p ON p.segment_name = m.segment
ORDER BY customers DESC, segment;
