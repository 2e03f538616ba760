-- The lifetime-value and churn tables other areas read; the rest are written whole by their asset.
CREATE SCHEMA IF NOT EXISTS clv;
CREATE TABLE IF NOT EXISTS clv.model_params (
    fitted_at TIMESTAMP, fit VARCHAR, model VARCHAR, parameter VARCHAR, estimate DOUBLE, standard_error DOUBLE,
    log_likelihood DOUBLE, customers BIGINT, calibration_end DATE, data_through DATE, time_unit VARCHAR,
    chosen BOOLEAN
);
CREATE TABLE IF NOT EXISTS clv.holdout_scores (
    model VARCHAR, actual_total DOUBLE, predicted_total DOUBLE, total_error DOUBLE, rmse DOUBLE, mae DOUBLE,
    chosen BOOLEAN, max_total_error DOUBLE, calibration_end DATE, data_through DATE
);
CREATE TABLE IF NOT EXISTS clv.churn_models (
    trained_at TIMESTAMP, data_through DATE, train_cutoff DATE, test_cutoff DATE, horizon_days INTEGER,
    test_roc_auc DOUBLE, baseline_roc_auc DOUBLE, estimator BLOB
);
CREATE TABLE IF NOT EXISTS clv.customer_value (
    customer_id VARCHAR, as_of_day DATE, p_alive DOUBLE, expected_spend DOUBLE, clv DOUBLE,
    expected_return_rate DOUBLE, net_clv DOUBLE, churn_probability DOUBLE, churn_band VARCHAR
);
