-- Whether each line of the orders placed in [$start, $end) was returned: a return of the
-- same customer and product registered after the order was placed and at most $window_days
-- days later. Only returns registered up to $observed_until are known; `label_known` is
-- false while the line's window has not closed by then (a line not yet returned may still
-- be). Needs the macros of `returns/events.sql`.
SELECT
    l.order_id,
    l.line_no,
    COALESCE(r.return_ts <= l.order_ts + INTERVAL (CAST($window_days AS INTEGER)) DAY, false) AS returned,
    l.order_ts + INTERVAL (CAST($window_days AS INTEGER)) DAY <= CAST($observed_until AS TIMESTAMP) AS label_known
FROM placed_lines(CAST($start AS TIMESTAMP), CAST($end AS TIMESTAMP)) AS l
ASOF LEFT JOIN (
    SELECT customer_id, product_id, return_ts FROM staging.returns
    WHERE return_ts <= CAST($observed_until AS TIMESTAMP)
) AS r ON r.customer_id = l.customer_id AND r.product_id = l.product_id AND l.order_ts < r.return_ts
