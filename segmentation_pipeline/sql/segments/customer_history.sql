-- Each customer's state at the end of every day in [$start, $end) on which it changed: one row per
-- customer and day with an order, a return, a service contact or a campaign response (counted
-- once its attribution window of $attribution_days has closed), from the day of the first
-- purchase on. Only data dated on or before the row's day counts. The state of any day is the
-- customer's latest row on or before it (`history_tables.sql`); what moves every day without an
-- event (recency, tenure) is derived there from the stored timestamps. Only customers with an
-- event in the window can have a row in it, so only their history is cumulated.
WITH responses_closed AS (
    SELECT customer_id, CAST(sent_ts + INTERVAL (CAST($attribution_days AS INTEGER)) DAY AS DATE) AS day, converted
    FROM staging.campaign_exposures
    WHERE sent_ts + INTERVAL (CAST($attribution_days AS INTEGER)) DAY < CAST($end AS TIMESTAMP)
), active AS (
    SELECT customer_id FROM staging.transactions
    WHERE order_ts >= CAST($start AS TIMESTAMP) AND order_ts < CAST($end AS TIMESTAMP)
    UNION SELECT customer_id FROM staging.returns
    WHERE return_ts >= CAST($start AS TIMESTAMP) AND return_ts < CAST($end AS TIMESTAMP)
    UNION SELECT customer_id FROM staging.service_interactions
    WHERE interaction_ts >= CAST($start AS TIMESTAMP) AND interaction_ts < CAST($end AS TIMESTAMP)
    UNION SELECT customer_id FROM responses_closed WHERE day >= CAST($start AS DATE)
), order_days AS (
    SELECT customer_id, CAST(order_ts AS DATE) AS day,
           COUNT(DISTINCT order_id) AS orders,
           -- money is summed exactly, so the same lines give the same cents in any order of summation
           CAST(SUM(CAST(gross_amount AS DECIMAL(18, 6))) AS DOUBLE) AS gross,
           CAST(SUM(CAST(net_amount AS DECIMAL(18, 6))) AS DOUBLE) AS net,
           SUM(quantity) AS units, COUNT(*) AS lines, COUNT(*) FILTER (WHERE discount > 0) AS discounted_lines,
           MIN(order_ts) AS first_ts, MAX(order_ts) AS last_ts
    FROM staging.transactions
    WHERE order_ts < CAST($end AS TIMESTAMP) AND customer_id IN (SELECT customer_id FROM active)
    GROUP BY ALL
), first_category_days AS (
    SELECT customer_id, MIN(CAST(order_ts AS DATE)) AS day, 1 AS new_categories
    FROM staging.transactions
    WHERE order_ts < CAST($end AS TIMESTAMP) AND category IS NOT NULL
      AND customer_id IN (SELECT customer_id FROM active)
    GROUP BY customer_id, category
), return_days AS (
    SELECT customer_id, CAST(return_ts AS DATE) AS day, COUNT(*) AS returns,
           SUM(quantity) AS units_returned,
           CAST(SUM(CAST(COALESCE(refund_amount, 0) AS DECIMAL(18, 6))) AS DOUBLE) AS value_returned
    FROM staging.returns
    WHERE return_ts < CAST($end AS TIMESTAMP) AND customer_id IN (SELECT customer_id FROM active)
    GROUP BY ALL
), contact_days AS (
    SELECT customer_id, CAST(interaction_ts AS DATE) AS day, COUNT(*) AS contacts
    FROM staging.service_interactions
    WHERE interaction_ts < CAST($end AS TIMESTAMP) AND customer_id IN (SELECT customer_id FROM active)
    GROUP BY ALL
), response_days AS (
    SELECT customer_id, day, COUNT(*) FILTER (WHERE converted) AS responses
    FROM responses_closed WHERE customer_id IN (SELECT customer_id FROM active)
    GROUP BY ALL
), activity AS (
    SELECT customer_id, day,
           SUM(orders) AS orders, SUM(gross) AS gross, SUM(net) AS net, SUM(units) AS units,
           SUM(lines) AS lines, SUM(discounted_lines) AS discounted_lines,
           MIN(first_ts) AS first_ts, MAX(last_ts) AS last_ts, SUM(new_categories) AS new_categories,
           SUM(returns) AS returns, SUM(units_returned) AS units_returned, SUM(value_returned) AS value_returned,
           SUM(contacts) AS contacts, SUM(responses) AS responses
    FROM (
        SELECT customer_id, day, orders, gross, net, units, lines, discounted_lines, first_ts, last_ts,
               NULL AS new_categories, NULL AS returns, NULL AS units_returned, NULL AS value_returned,
               NULL AS contacts, NULL AS responses FROM order_days
        UNION ALL BY NAME SELECT customer_id, day, new_categories FROM first_category_days
        UNION ALL BY NAME SELECT customer_id, day, returns, units_returned, value_returned FROM return_days
        UNION ALL BY NAME SELECT customer_id, day, contacts FROM contact_days
        UNION ALL BY NAME SELECT customer_id, day, responses FROM response_days
    )
    GROUP BY customer_id, day
), cumulated AS (
    SELECT customer_id, day,
           SUM(COALESCE(orders, 0)) OVER w AS frequency,
           SUM(COALESCE(gross, 0)) OVER w AS monetary_gross,
           SUM(COALESCE(net, 0)) OVER w AS net_sales,
           COUNT(orders) OVER w AS purchase_days,
           SUM(COALESCE(net, 0)) OVER w - FIRST_VALUE(net IGNORE NULLS) OVER w AS repeat_spend,
           SUM(COALESCE(units, 0)) OVER w AS units_bought,
           SUM(COALESCE(lines, 0)) OVER w AS lines_bought,
           SUM(COALESCE(discounted_lines, 0)) OVER w AS discounted_lines,
           MIN(first_ts) OVER w AS first_purchase_ts,
           MAX(last_ts) OVER w AS last_purchase_ts,
           SUM(COALESCE(new_categories, 0)) OVER w AS category_breadth,
           SUM(COALESCE(returns, 0)) OVER w AS n_returns,
           SUM(COALESCE(units_returned, 0)) OVER w AS units_returned,
           SUM(COALESCE(value_returned, 0)) OVER w AS value_returned,
           SUM(COALESCE(contacts, 0)) OVER w AS service_contacts,
           SUM(COALESCE(responses, 0)) OVER w AS campaign_responses
    FROM activity
    WINDOW w AS (PARTITION BY customer_id ORDER BY day ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)
)
SELECT
    k.day AS as_of_day,
    k.customer_id,
    CAST(k.frequency AS BIGINT) AS frequency,
    ROUND(k.monetary_gross, 2) AS monetary_gross,
    ROUND(k.net_sales - k.value_returned, 2) AS monetary_net,
    ROUND(k.net_sales / k.frequency, 2) AS avg_order_value,
    k.units_bought / k.frequency AS units_per_order,
    k.discounted_lines / k.lines_bought AS discount_share,
    CAST(k.lines_bought AS BIGINT) AS lines_bought,
    CAST(k.units_bought AS BIGINT) AS units_bought,
    CAST(k.purchase_days AS BIGINT) AS purchase_days,
    ROUND(k.repeat_spend, 2) AS repeat_spend,
    CASE WHEN k.frequency > 1
         THEN date_diff('second', k.first_purchase_ts, k.last_purchase_ts) / 86400.0 / (k.frequency - 1)
    END AS mean_days_between_orders,
    LEAST(k.units_returned / k.units_bought, 1.0) AS return_rate_units,
    CASE WHEN k.net_sales > 0 THEN LEAST(k.value_returned / k.net_sales, 1.0) ELSE 0.0 END AS return_rate_value,
    CAST(k.n_returns AS BIGINT) AS n_returns,
    CAST(k.service_contacts AS BIGINT) AS service_contacts,
    CAST(k.campaign_responses AS BIGINT) AS campaign_responses,
    CAST(k.category_breadth AS BIGINT) AS category_breadth,
    k.first_purchase_ts,
    k.last_purchase_ts,
    LEAST(COALESCE(c.signup_ts, k.first_purchase_ts), k.first_purchase_ts) AS first_seen_ts
FROM cumulated AS k
LEFT JOIN staging.customers AS c ON c.customer_id = k.customer_id
WHERE k.day >= CAST($start AS DATE) AND k.day < CAST($end AS DATE) AND k.frequency > 0
