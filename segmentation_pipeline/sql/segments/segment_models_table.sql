-- The list of segment model versions, one row per refit (the models themselves are in the segment model registry).
CREATE SCHEMA IF NOT EXISTS segments;
CREATE TABLE IF NOT EXISTS segments.segment_models (
    version VARCHAR, fitted_on DATE, algorithm VARCHAR, k INTEGER, k_reason VARCHAR, mean_ari DOUBLE,
    customers BIGINT, names JSON, k_scores JSON, path VARCHAR
);
