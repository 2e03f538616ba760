-- Every campaign exposure with its outcome and what was known of the customer at the end of the day
-- before the message. An outcome is known when the file gives it or the attribution window has closed
-- by $observed_until. Outcomes come from the exposure row (converted, revenue) when the file gives
-- them, else from the customer's orders in the $attribution_days after sent_ts; the orders placed in
-- that window and the units later returned of them measure the return guardrail. The control group
-- is `is_control`, or a variant named control, holdout or no e-mail when the file has no such column. The
-- customer's state: their latest history row before the message day (zeros before a first purchase),
-- segment and RFM segment on the day before.
WITH exposures AS (
    SELECT campaign_id, customer_id, sent_ts, variant, converted, revenue,
           COALESCE(is_control, lower(variant) IN ('control', 'holdout', 'hold-out', 'no e-mail', 'no email'))
               AS is_control,
           CAST(sent_ts AS DATE) - 1 AS day_before,
           sent_ts + INTERVAL (CAST($attribution_days AS INTEGER)) DAY AS window_end
    FROM staging.campaign_exposures
), window_orders AS (
    SELECT x.campaign_id, x.customer_id, t.order_id,
           sum(t.net_amount) AS spend, sum(t.quantity) AS units
    FROM exposures AS x
    JOIN staging.transactions AS t
      ON t.customer_id = x.customer_id AND t.order_ts > x.sent_ts AND t.order_ts <= x.window_end
    GROUP BY ALL
), window_returns AS (
    SELECT w.campaign_id, w.customer_id, sum(r.quantity) AS units_returned
    FROM window_orders AS w
    JOIN staging.returns AS r ON r.order_id = w.order_id
    GROUP BY ALL
), window_outcomes AS (
    SELECT campaign_id, customer_id, count(*) AS orders, sum(spend) AS spend, sum(units) AS units_bought
    FROM window_orders
    GROUP BY ALL
), history_before AS (
    SELECT * FROM (
        SELECT x.campaign_id, x.customer_id, x.day_before, h.*  EXCLUDE (customer_id),
               row_number() OVER (PARTITION BY x.campaign_id, x.customer_id ORDER BY h.as_of_day DESC) AS latest
        FROM exposures AS x
        JOIN features.customer_history AS h ON h.customer_id = x.customer_id AND h.as_of_day <= x.day_before
    ) WHERE latest = 1
), segment_before AS (
    SELECT * FROM (
        SELECT x.campaign_id, x.customer_id, s.segment_name,
               row_number() OVER (PARTITION BY x.campaign_id, x.customer_id ORDER BY s.as_of_day DESC) AS latest
        FROM exposures AS x
        JOIN segments.segment_history AS s ON s.customer_id = x.customer_id AND s.as_of_day <= x.day_before
    ) WHERE latest = 1
), rfm_before AS (
    SELECT * FROM (
        SELECT x.campaign_id, x.customer_id, r.rfm_segment,
               row_number() OVER (PARTITION BY x.campaign_id, x.customer_id ORDER BY r.as_of_day DESC) AS latest
        FROM exposures AS x
        JOIN segments.rfm_history AS r ON r.customer_id = x.customer_id AND r.as_of_day <= x.day_before
    ) WHERE latest = 1
)
SELECT
    x.campaign_id, x.customer_id, x.variant, x.is_control, x.sent_ts,
    x.converted IS NOT NULL OR x.revenue IS NOT NULL OR x.window_end <= CAST($observed_until AS TIMESTAMP)
        AS outcome_known,
    COALESCE(x.converted, COALESCE(o.orders, 0) > 0) AS converted,
    COALESCE(x.revenue, o.spend, 0.0) AS revenue,
    CASE WHEN x.converted IS NOT NULL OR x.revenue IS NOT NULL THEN 'exposure file' ELSE 'attribution window' END
        AS outcome_source,
    COALESCE(o.units_bought, 0) AS units_bought,
    COALESCE(wr.units_returned, 0) AS units_returned,
    COALESCE(s.segment_name, 'no segment') AS segment_name,
    COALESCE(r.rfm_segment, 'no purchase yet') AS rfm_segment,
    COALESCE(h.monetary_net, 0.0) AS pre_spend,
    COALESCE(h.frequency, 0) AS frequency,
    COALESCE(h.purchase_days, 0) AS purchase_days,
    COALESCE(h.avg_order_value, 0.0) AS avg_order_value,
    h.mean_days_between_orders,
    COALESCE(h.return_rate_units, 0.0) AS return_rate_units,
    COALESCE(h.discount_share, 0.0) AS discount_share,
    COALESCE(h.service_contacts, 0) AS service_contacts,
    COALESCE(h.campaign_responses, 0) AS campaign_responses,
    COALESCE(h.category_breadth, 0) AS category_breadth,
    date_diff('second', h.last_purchase_ts, CAST(x.day_before AS TIMESTAMP) + INTERVAL 1 DAY) / 86400.0 AS recency_days,
    date_diff('second', h.first_seen_ts, CAST(x.day_before AS TIMESTAMP) + INTERVAL 1 DAY) / 86400.0 AS tenure_days
FROM exposures AS x
LEFT JOIN window_outcomes AS o USING (campaign_id, customer_id)
LEFT JOIN window_returns AS wr USING (campaign_id, customer_id)
LEFT JOIN history_before AS h USING (campaign_id, customer_id)
LEFT JOIN segment_before AS s USING (campaign_id, customer_id)
LEFT JOIN rfm_before AS r USING (campaign_id, customer_id)
ORDER BY x.campaign_id, x.customer_id
