-- One row per training run of the return model: the version trained, the last day of data it saw,
-- its test ROC AUC, whether it was promoted and why, and the version in production afterwards.
CREATE SCHEMA IF NOT EXISTS returns;
CREATE TABLE IF NOT EXISTS returns.model_runs (
    trained_at TIMESTAMP, version VARCHAR, algorithm VARCHAR, window_days INTEGER, data_through DATE,
    test_roc_auc DOUBLE, promoted BOOLEAN, reason VARCHAR, production_version VARCHAR
);
ALTER TABLE returns.model_runs ADD COLUMN IF NOT EXISTS window_days INTEGER;
ALTER TABLE returns.model_runs ADD COLUMN IF NOT EXISTS data_through DATE;
