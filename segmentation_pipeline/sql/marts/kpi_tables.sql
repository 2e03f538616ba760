-- Every judged day of every KPI (`marts.kpi_checks`) and the anomalous ones (`marts.kpi_anomalies`),
-- from the verdicts registered as `judged_kpis`, with the columns and types the data dictionary names.
CREATE SCHEMA IF NOT EXISTS marts;
CREATE OR REPLACE TABLE marts.kpi_checks AS
SELECT
    CAST(day AS DATE) AS day,
    CAST(metric AS VARCHAR) AS metric,
    CAST(value AS DOUBLE) AS value,
    CAST(expected AS DOUBLE) AS expected,
    CAST(low AS DOUBLE) AS low,
    CAST(high AS DOUBLE) AS high,
    CAST(z AS DOUBLE) AS z,
    CAST(direction AS VARCHAR) AS direction,
    CAST(is_anomaly AS BOOLEAN) AS is_anomaly,
    CAST(history_weeks AS BIGINT) AS history_weeks
FROM judged_kpis
ORDER BY day, metric;
CREATE OR REPLACE TABLE marts.kpi_anomalies AS
SELECT day, metric, value, expected, low, high, z, direction
FROM marts.kpi_checks
WHERE is_anomaly
ORDER BY day, metric;
