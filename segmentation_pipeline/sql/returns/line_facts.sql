-- What the return model knows about each line of the orders placed in [$start, $end): the line,
-- its basket (the whole order), and counts of what its customer, product, category and
-- the shop did strictly before the order was placed (`domain/return_features.py` names
-- the columns). Needs the macros of `returns/events.sql`.
--
-- Each count is a running sum over a time-ordered stream of events per key; a line takes
-- the latest sum dated strictly before its order (ASOF join), so events at the order's
-- own timestamp, later events and the order's other lines never count. Events before the
-- window are summed into one opening row per key, and only the keys of the window's lines are
-- summed, so one day costs one pass over history.
WITH lines AS (
    SELECT order_id, line_no, customer_id, product_id, order_ts, quantity, unit_price,
           COALESCE(discount, 0) AS discount,
           COALESCE(category, 'unknown') AS category,
           COALESCE(channel, 'unknown') AS channel,
           COALESCE(country, 'unknown') AS country,
           CAST(order_ts AS DATE) AS as_of_day
    FROM placed_lines(CAST($start AS TIMESTAMP), CAST($end AS TIMESTAMP))
), events AS (
    SELECT *, CASE WHEN ts < CAST($start AS TIMESTAMP) THEN TIMESTAMP '-infinity' ELSE ts END AS since
    FROM return_events(CAST($end AS TIMESTAMP))
), customer_history AS (
    SELECT customer_id, since,
           SUM(orders) OVER w AS orders,
           SUM(lines) OVER w AS prior_lines,
           SUM(bought_units) OVER w AS bought_units,
           SUM(returns) OVER w AS prior_returns,
           SUM(returned_units) OVER w AS returned_units,
           SUM(contacts) OVER w AS contacts,
           MIN(first_order_ts) OVER w AS first_order_ts,
           MAX(last_order_ts) OVER w AS last_order_ts
    FROM (
        SELECT customer_id, since, COUNT(DISTINCT order_id) AS orders, SUM(lines) AS lines,
               SUM(bought_units) AS bought_units, SUM(returns) AS returns,
               SUM(returned_units) AS returned_units, SUM(contacts) AS contacts,
               MIN(ts) FILTER (WHERE order_id IS NOT NULL) AS first_order_ts,
               MAX(ts) FILTER (WHERE order_id IS NOT NULL) AS last_order_ts
        FROM events WHERE customer_id IN (SELECT customer_id FROM lines) GROUP BY customer_id, since
    )
    WINDOW w AS (PARTITION BY customer_id ORDER BY since ROWS UNBOUNDED PRECEDING)
), product_history AS (
    SELECT product_id, since,
           SUM(lines) OVER w AS prior_lines,
           SUM(bought_units) OVER w AS bought_units,
           SUM(returns) OVER w AS prior_returns,
           SUM(returned_units) OVER w AS returned_units,
           CAST(SUM(price_sum) OVER w AS DOUBLE) / SUM(priced_lines) OVER w AS usual_price
    FROM (
        SELECT product_id, since, SUM(lines) AS lines, SUM(bought_units) AS bought_units,
               SUM(returns) AS returns, SUM(returned_units) AS returned_units,
               SUM(CAST(unit_price AS DECIMAL(18, 6))) AS price_sum, COUNT(unit_price) AS priced_lines
        FROM events WHERE product_id IN (SELECT product_id FROM lines) GROUP BY product_id, since
    )
    WINDOW w AS (PARTITION BY product_id ORDER BY since ROWS UNBOUNDED PRECEDING)
), category_history AS (
    SELECT category, since,
           SUM(bought_units) OVER w AS bought_units,
           SUM(returned_units) OVER w AS returned_units
    FROM (
        SELECT category, since, SUM(bought_units) AS bought_units, SUM(returned_units) AS returned_units
        FROM events WHERE category IN (SELECT category FROM lines) GROUP BY category, since
    )
    WINDOW w AS (PARTITION BY category ORDER BY since ROWS UNBOUNDED PRECEDING)
), shop_history AS (
    SELECT since,
           SUM(lines) OVER w AS prior_lines,
           SUM(bought_units) OVER w AS bought_units,
           SUM(returns) OVER w AS prior_returns,
           SUM(returned_units) OVER w AS returned_units
    FROM (SELECT since, SUM(lines) AS lines, SUM(bought_units) AS bought_units, SUM(returns) AS returns,
                 SUM(returned_units) AS returned_units
          FROM events GROUP BY since)
    WINDOW w AS (ORDER BY since ROWS UNBOUNDED PRECEDING)
), segments AS (
    -- a segment row holds from its day on; an order sees the segment of the day before it
    SELECT customer_id, as_of_day + 1 AS first_order_day, segment_name
    FROM segments.segment_history
    WHERE as_of_day < CAST($end AS DATE) - 1
), orders AS (
    SELECT o.*,
           c.orders, c.prior_lines, c.bought_units, c.prior_returns, c.returned_units, c.contacts,
           date_diff('second', LEAST(s.signup_ts, c.first_order_ts, o.order_ts), o.order_ts) / 86400.0
               AS tenure_days,
           date_diff('second', c.last_order_ts, o.order_ts) / 86400.0 AS days_since_last_order,
           COALESCE(g.segment_name, 'none') AS segment,
           h.prior_lines AS shop_lines, h.bought_units AS shop_bought_units,
           h.prior_returns AS shop_returns, h.returned_units AS shop_returned_units
    FROM (
        SELECT order_id, customer_id, order_ts, as_of_day, COUNT(*) AS lines, SUM(quantity) AS units,
               SUM(quantity * unit_price) AS value
        FROM lines GROUP BY order_id, customer_id, order_ts, as_of_day
    ) AS o
    ASOF LEFT JOIN customer_history AS c ON c.customer_id = o.customer_id AND o.order_ts > c.since
    ASOF LEFT JOIN shop_history AS h ON o.order_ts > h.since
    LEFT JOIN staging.customers AS s ON s.customer_id = o.customer_id
    ASOF LEFT JOIN segments AS g ON g.customer_id = o.customer_id AND o.as_of_day >= g.first_order_day
), basket_products AS (
    SELECT order_id, product_id, COUNT(*) AS lines FROM lines GROUP BY order_id, product_id
), basket_categories AS (
    SELECT order_id, category, COUNT(*) AS lines FROM lines GROUP BY order_id, category
)
SELECT
    l.order_id, l.line_no, l.customer_id, l.product_id, l.order_ts, l.quantity, l.unit_price, l.discount,
    l.category, l.channel, l.country,
    o.lines AS basket_lines,
    CAST(o.units AS BIGINT) AS basket_units,
    o.value AS basket_value,
    bp.lines AS same_product_lines,
    bc.lines AS same_category_lines,
    CAST(COALESCE(o.orders, 0) AS BIGINT) AS customer_prior_orders,
    CAST(COALESCE(o.bought_units, 0) AS BIGINT) AS customer_prior_units,
    CAST(COALESCE(o.returned_units, 0) AS BIGINT) AS customer_prior_returned_units,
    CAST(COALESCE(o.prior_lines, 0) AS BIGINT) AS customer_prior_lines,
    CAST(COALESCE(o.prior_returns, 0) AS BIGINT) AS customer_prior_returns,
    o.tenure_days AS customer_tenure_days,
    o.days_since_last_order AS customer_days_since_last_order,
    CAST(COALESCE(o.contacts, 0) AS BIGINT) AS customer_prior_contacts,
    o.segment AS customer_segment,
    CAST(COALESCE(p.bought_units, 0) AS BIGINT) AS product_prior_units,
    CAST(COALESCE(p.returned_units, 0) AS BIGINT) AS product_prior_returned_units,
    CAST(COALESCE(p.prior_lines, 0) AS BIGINT) AS product_prior_lines,
    CAST(COALESCE(p.prior_returns, 0) AS BIGINT) AS product_prior_returns,
    p.usual_price AS product_usual_price,
    CAST(COALESCE(k.bought_units, 0) AS BIGINT) AS category_prior_units,
    CAST(COALESCE(k.returned_units, 0) AS BIGINT) AS category_prior_returned_units,
    CAST(COALESCE(o.shop_bought_units, 0) AS BIGINT) AS shop_prior_units,
    CAST(COALESCE(o.shop_returned_units, 0) AS BIGINT) AS shop_prior_returned_units,
    CAST(COALESCE(o.shop_lines, 0) AS BIGINT) AS shop_prior_lines,
    CAST(COALESCE(o.shop_returns, 0) AS BIGINT) AS shop_prior_returns,
    l.as_of_day
FROM lines AS l
JOIN orders AS o ON o.order_id = l.order_id
JOIN basket_products AS bp ON bp.order_id = l.order_id AND bp.product_id = l.product_id
JOIN basket_categories AS bc ON bc.order_id = l.order_id AND bc.category = l.category
ASOF LEFT JOIN product_history AS p ON p.product_id = l.product_id AND l.order_ts > p.since
ASOF LEFT JOIN category_history AS k ON k.category = l.category AND l.order_ts > k.since
