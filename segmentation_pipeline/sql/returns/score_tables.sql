-- The production model's scores of past order lines: every line of the latest `customer_days`,
-- scored once by the model in force (the top factors only for the latest `recent_days`), and
-- each customer's expected return rate from them.
CREATE SCHEMA IF NOT EXISTS returns;
CREATE TABLE IF NOT EXISTS returns.line_scores (
    order_id VARCHAR, line_no BIGINT, customer_id VARCHAR, product_id VARCHAR, order_ts TIMESTAMP, as_of_day DATE,
    return_probability DOUBLE, top_factors VARCHAR, model_version VARCHAR
);
CREATE TABLE IF NOT EXISTS returns.customer_expected_return_rate (
    customer_id VARCHAR, expected_return_rate DOUBLE, scored_lines BIGINT
);
