-- Macros over staged data shared by the return model's facts, labels and scoring state.
--
-- placed_orders(before): when each order placed before `before` was placed: its first
-- line's timestamp (a few sources spread one order's lines over a minute or two).
CREATE OR REPLACE TEMP MACRO placed_orders(before) AS TABLE
SELECT order_id, MIN(order_ts) AS placed_ts
FROM staging.transactions
WHERE order_ts < before
GROUP BY order_id;

-- placed_lines(first, stop): the lines of the orders placed in [first, stop), each dated
-- when its order was placed.
CREATE OR REPLACE TEMP MACRO placed_lines(first, stop) AS TABLE
SELECT t.* REPLACE (o.placed_ts AS order_ts)
FROM staging.transactions AS t
JOIN placed_orders(stop) AS o USING (order_id)
WHERE t.order_ts >= first AND o.placed_ts >= first;

-- product_categories(before): each product's category, from its first staged line before
-- `before` that names one (a product has one category).
CREATE OR REPLACE TEMP MACRO product_categories(before) AS TABLE
SELECT product_id, arg_min(category, order_ts) AS category
FROM staging.transactions
WHERE category IS NOT NULL AND order_ts < before
GROUP BY product_id;

-- return_events(before): every event the return counts are made of, strictly before
-- `before`: one row per order line (one line, units bought, unit price, order; dated when
-- its order was placed), per return (one return, units returned, counted in its product's
-- category) and per customer-service contact. Categories are 'unknown' when none is known.
CREATE OR REPLACE TEMP MACRO return_events(before) AS TABLE
SELECT t.customer_id, t.product_id, COALESCE(t.category, 'unknown') AS category, o.placed_ts AS ts, t.order_id,
       1 AS lines, t.quantity AS bought_units, t.unit_price, 0 AS returns, 0 AS returned_units, 0 AS contacts
FROM staging.transactions AS t
JOIN placed_orders(before) AS o USING (order_id)
UNION ALL
SELECT r.customer_id, r.product_id, COALESCE(p.category, 'unknown'), r.return_ts, NULL, 0, 0, NULL, 1, r.quantity, 0
FROM staging.returns AS r
LEFT JOIN product_categories(before) AS p USING (product_id)
WHERE r.return_ts < before
UNION ALL
SELECT customer_id, NULL, NULL, interaction_ts, NULL, 0, 0, NULL, 0, 0, 1
FROM staging.service_interactions
WHERE interaction_ts < before;

-- observed_until(): the end of the latest day with staged events, the moment up to which
-- the shop's history is known.
CREATE OR REPLACE TEMP MACRO observed_until() AS (
    SELECT CAST(max(day) + 1 AS TIMESTAMP) FROM (
        SELECT max(_partition_date) AS day FROM staging.transactions
        UNION ALL SELECT max(_partition_date) FROM staging.returns
        UNION ALL SELECT max(_partition_date) FROM staging.service_interactions
    )
);

-- customer_counts(before), product_counts(before), category_counts(before), shop_counts(before):
-- what each customer, product, category and the whole shop had bought, returned and asked
-- strictly before `before`, as the return model's facts name them. A customer without events
-- but with a customer row has zero counts.
CREATE OR REPLACE TEMP MACRO customer_counts(before) AS TABLE
WITH activity AS (
    SELECT customer_id, COUNT(DISTINCT order_id) AS orders, SUM(lines) AS lines, SUM(bought_units) AS bought_units,
           SUM(returns) AS returns, SUM(returned_units) AS returned_units, SUM(contacts) AS contacts,
           MIN(ts) FILTER (WHERE order_id IS NOT NULL) AS first_order_ts,
           MAX(ts) FILTER (WHERE order_id IS NOT NULL) AS last_order_ts
    FROM return_events(before) GROUP BY customer_id
)
SELECT
    customer_id,
    CAST(COALESCE(a.orders, 0) AS BIGINT) AS customer_prior_orders,
    CAST(COALESCE(a.bought_units, 0) AS BIGINT) AS customer_prior_units,
    CAST(COALESCE(a.returned_units, 0) AS BIGINT) AS customer_prior_returned_units,
    CAST(COALESCE(a.lines, 0) AS BIGINT) AS customer_prior_lines,
    CAST(COALESCE(a.returns, 0) AS BIGINT) AS customer_prior_returns,
    LEAST(c.signup_ts, a.first_order_ts) AS first_seen_ts,
    a.last_order_ts,
    CAST(COALESCE(a.contacts, 0) AS BIGINT) AS customer_prior_contacts
FROM activity AS a
FULL JOIN staging.customers AS c USING (customer_id);

CREATE OR REPLACE TEMP MACRO product_counts(before) AS TABLE
SELECT
    e.product_id,
    COALESCE(p.category, 'unknown') AS category,
    CAST(SUM(e.bought_units) AS BIGINT) AS product_prior_units,
    CAST(SUM(e.returned_units) AS BIGINT) AS product_prior_returned_units,
    CAST(SUM(e.lines) AS BIGINT) AS product_prior_lines,
    CAST(SUM(e.returns) AS BIGINT) AS product_prior_returns,
    CAST(SUM(CAST(e.unit_price AS DECIMAL(18, 6))) AS DOUBLE) / COUNT(e.unit_price) AS product_usual_price
FROM return_events(before) AS e
LEFT JOIN product_categories(before) AS p USING (product_id)
WHERE e.product_id IS NOT NULL
GROUP BY ALL;

CREATE OR REPLACE TEMP MACRO category_counts(before) AS TABLE
SELECT
    category,
    CAST(SUM(bought_units) AS BIGINT) AS category_prior_units,
    CAST(SUM(returned_units) AS BIGINT) AS category_prior_returned_units
FROM return_events(before)
WHERE category IS NOT NULL
GROUP BY category;

CREATE OR REPLACE TEMP MACRO shop_counts(before) AS TABLE
SELECT
    CAST(COALESCE(SUM(bought_units), 0) AS BIGINT) AS shop_prior_units,
    CAST(COALESCE(SUM(returned_units), 0) AS BIGINT) AS shop_prior_returned_units,
    CAST(COALESCE(SUM(lines), 0) AS BIGINT) AS shop_prior_lines,
    CAST(COALESCE(SUM(returns), 0) AS BIGINT) AS shop_prior_returns
FROM return_events(before);
