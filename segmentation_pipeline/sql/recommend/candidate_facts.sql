-- The return model's facts (`FACT_COLUMNS`) of hypothetical orders placed at $before, one per
-- pair of `candidate_pairs` (customer_id, product_id, pair_no), in pair_no order: one unit of the
-- product at its usual price, alone in its basket, channel and country unknown, with the
-- customer, product, category and shop counts of every event before $before. The same facts the
-- scoring service builds with `order_facts` for such an order. Needs the macros of `returns/events.sql`.
WITH customers AS (FROM customer_counts($before)),
products AS (FROM product_counts($before)),
segments AS (SELECT customer_id, segment_name FROM segments_on(CAST($before AS DATE) - 1))
SELECT
    CAST(NULL AS VARCHAR) AS order_id,
    1 AS line_no,
    x.customer_id,
    x.product_id,
    CAST($before AS TIMESTAMP) AS order_ts,
    1 AS quantity,
    p.product_usual_price AS unit_price,
    0.0 AS discount,
    COALESCE(p.category, 'unknown') AS category,
    'unknown' AS channel,
    'unknown' AS country,
    1 AS basket_lines,
    1 AS basket_units,
    p.product_usual_price AS basket_value,
    1 AS same_product_lines,
    1 AS same_category_lines,
    COALESCE(c.customer_prior_orders, 0) AS customer_prior_orders,
    COALESCE(c.customer_prior_units, 0) AS customer_prior_units,
    COALESCE(c.customer_prior_returned_units, 0) AS customer_prior_returned_units,
    COALESCE(c.customer_prior_lines, 0) AS customer_prior_lines,
    COALESCE(c.customer_prior_returns, 0) AS customer_prior_returns,
    GREATEST(COALESCE(date_diff('second', c.first_seen_ts, CAST($before AS TIMESTAMP)) / 86400.0, 0.0), 0.0)
        AS customer_tenure_days,
    date_diff('second', c.last_order_ts, CAST($before AS TIMESTAMP)) / 86400.0 AS customer_days_since_last_order,
    COALESCE(c.customer_prior_contacts, 0) AS customer_prior_contacts,
    COALESCE(s.segment_name, 'none') AS customer_segment,
    COALESCE(p.product_prior_units, 0) AS product_prior_units,
    COALESCE(p.product_prior_returned_units, 0) AS product_prior_returned_units,
    COALESCE(p.product_prior_lines, 0) AS product_prior_lines,
    COALESCE(p.product_prior_returns, 0) AS product_prior_returns,
    p.product_usual_price,
    COALESCE(g.category_prior_units, 0) AS category_prior_units,
    COALESCE(g.category_prior_returned_units, 0) AS category_prior_returned_units,
    h.shop_prior_units,
    h.shop_prior_returned_units,
    h.shop_prior_lines,
    h.shop_prior_returns
FROM candidate_pairs AS x
LEFT JOIN customers AS c USING (customer_id)
LEFT JOIN products AS p USING (product_id)
LEFT JOIN category_counts($before) AS g ON g.category = COALESCE(p.category, 'unknown')
LEFT JOIN segments AS s USING (customer_id)
CROSS JOIN shop_counts($before) AS h
ORDER BY x.pair_no
