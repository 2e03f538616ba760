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
