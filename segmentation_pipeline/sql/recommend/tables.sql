-- The recommendation tables the cadence and a daily update read; the rest are written whole by their asset.
CREATE SCHEMA IF NOT EXISTS recommend;
CREATE TABLE IF NOT EXISTS recommend.runs (ran_at TIMESTAMP, data_through DATE, kind VARCHAR, customers BIGINT);
CREATE TABLE IF NOT EXISTS recommend.lists (
    customer_id VARCHAR, rank BIGINT, product_id VARCHAR, price DOUBLE, purchase_probability DOUBLE,
    return_risk DOUBLE, expected_kept_value DOUBLE, source VARCHAR, because_you_bought VARCHAR,
    similarity_share DOUBLE, candidate_rank BIGINT
);
