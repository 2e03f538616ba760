-- One row per product bought or returned: its category, usual price, units sold and returned (from the
-- scoring state), and the customers with it on their recommendation list, with its mean return risk there.
CREATE SCHEMA IF NOT EXISTS marts;
CREATE OR REPLACE TABLE marts.products AS
WITH listed AS (
    SELECT product_id, COUNT(DISTINCT customer_id) AS customers, AVG(return_risk) AS mean_return_risk
    FROM recommend.lists
    GROUP BY product_id
)
SELECT
    CAST(p.product_id AS VARCHAR) AS product_id,
    CAST(p.category AS VARCHAR) AS category,
    CAST(p.product_usual_price AS DOUBLE) AS usual_price,
    CAST(p.product_prior_units AS BIGINT) AS units_sold,
    CAST(p.product_prior_returned_units AS BIGINT) AS units_returned,
    CASE WHEN p.product_prior_units > 0
        THEN CAST(p.product_prior_returned_units AS DOUBLE) / p.product_prior_units END AS return_rate,
    CAST(COALESCE(l.customers, 0) AS BIGINT) AS recommended_to_customers,
    CAST(l.mean_return_risk AS DOUBLE) AS mean_return_risk
FROM returns.product_state AS p
LEFT JOIN listed AS l ON l.product_id = p.product_id
ORDER BY p.product_id;
