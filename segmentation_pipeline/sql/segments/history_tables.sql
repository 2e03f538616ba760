-- The customer histories, stored as changes (one row per customer and day on which the row's values
-- changed, `as_of_day` the first day it holds), the list of segment models, and the macros that
-- derive any day's view from them. Run on every connection that reads the histories.
CREATE SCHEMA IF NOT EXISTS features;
CREATE SCHEMA IF NOT EXISTS segments;
CREATE TABLE IF NOT EXISTS features.customer_history (
    as_of_day DATE, customer_id VARCHAR, frequency BIGINT, monetary_gross DOUBLE, monetary_net DOUBLE,
    avg_order_value DOUBLE, units_per_order DOUBLE, discount_share DOUBLE, lines_bought BIGINT,
    units_bought BIGINT, purchase_days BIGINT, repeat_spend DOUBLE, mean_days_between_orders DOUBLE, return_rate_units DOUBLE, return_rate_value DOUBLE,
    n_returns BIGINT, service_contacts BIGINT, campaign_responses BIGINT, category_breadth BIGINT,
    first_purchase_ts TIMESTAMP, last_purchase_ts TIMESTAMP, first_seen_ts TIMESTAMP
);
CREATE TABLE IF NOT EXISTS segments.rfm_history (
    as_of_day DATE, customer_id VARCHAR, r_score BIGINT, f_score BIGINT, m_score BIGINT, rfm_cell VARCHAR,
    rfm_score BIGINT, rfm_segment VARCHAR
);
CREATE TABLE IF NOT EXISTS segments.segment_history (
    as_of_day DATE, customer_id VARCHAR, segment_id BIGINT, segment_name VARCHAR
);
CREATE TABLE IF NOT EXISTS segments.segment_models (
    version VARCHAR, fitted_on DATE, algorithm VARCHAR, k INTEGER, k_reason VARCHAR, mean_ari DOUBLE,
    customers BIGINT, names JSON, k_scores JSON, path VARCHAR
);

-- covered_until(asset): the last day a history asset has computed.
CREATE OR REPLACE TEMP MACRO covered_until(history) AS (
    SELECT max(end_day) - 1 FROM meta.refreshes WHERE asset = history
);

-- history_before(day): each customer's latest history row dated before `day`.
CREATE OR REPLACE TEMP MACRO history_before(day) AS TABLE
SELECT h.*
FROM features.customer_history AS h
JOIN (
    SELECT customer_id, max(as_of_day) AS as_of_day FROM features.customer_history
    WHERE as_of_day < day GROUP BY customer_id
) AS latest USING (customer_id, as_of_day);

-- snapshot_on(day): every customer's snapshot at the end of `day` (one row per customer who has
-- bought by then): their latest history row, with recency and tenure counted to the day's end.
CREATE OR REPLACE TEMP MACRO snapshot_on(day) AS TABLE
SELECT
    CAST(day AS DATE) AS as_of_day,
    h.customer_id,
    date_diff('second', h.last_purchase_ts, CAST(day AS DATE) + INTERVAL 1 DAY) / 86400.0 AS recency_days,
    h.frequency,
    h.monetary_gross,
    h.monetary_net,
    date_diff('second', h.first_seen_ts, CAST(day AS DATE) + INTERVAL 1 DAY) / 86400.0 AS tenure_days,
    h.avg_order_value,
    h.units_per_order,
    h.discount_share,
    h.lines_bought,
    h.units_bought,
    h.purchase_days,
    h.repeat_spend,
    h.mean_days_between_orders,
    h.return_rate_units,
    h.return_rate_value,
    h.n_returns,
    h.service_contacts,
    h.campaign_responses,
    h.category_breadth,
    h.first_purchase_ts,
    h.last_purchase_ts
FROM history_before(CAST(day AS DATE) + 1) AS h;

-- rfm_on(day): every customer's RFM scores and named RFM segment on `day`.
CREATE OR REPLACE TEMP MACRO rfm_on(day) AS TABLE
SELECT CAST(day AS DATE) AS as_of_day, r.* EXCLUDE (as_of_day)
FROM segments.rfm_history AS r
JOIN (
    SELECT customer_id, max(as_of_day) AS as_of_day FROM segments.rfm_history
    WHERE as_of_day <= CAST(day AS DATE) GROUP BY customer_id
) AS latest USING (customer_id, as_of_day);

-- segments_on(day): every segmented customer's segment on `day`, with the model version in force
-- (the latest fitted on or before the day).
CREATE OR REPLACE TEMP MACRO segments_on(day) AS TABLE
SELECT CAST(day AS DATE) AS as_of_day, s.customer_id, s.segment_id, s.segment_name,
       (SELECT max(version) FROM segments.segment_models WHERE fitted_on <= CAST(day AS DATE)) AS model_version
FROM segments.segment_history AS s
JOIN (
    SELECT customer_id, max(as_of_day) AS as_of_day FROM segments.segment_history
    WHERE as_of_day <= CAST(day AS DATE) GROUP BY customer_id
) AS latest USING (customer_id, as_of_day);
