-- Days a KPI was out of line with its seasonal baseline.
SELECT day, metric, value, expected, low, high, direction FROM marts.kpi_anomalies ORDER BY day, metric
