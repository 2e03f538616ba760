-- Macros over staged data shared by the return model's facts and the scoring state.
--
-- product_categories(before): each product's category, from its first staged line before
-- `before` that names one (a product has one category).
CREATE OR REPLACE TEMP MACRO product_categories(before) AS TABLE
SELECT product_id, arg_min(category, order_ts) AS category
FROM staging.transactions
WHERE category IS NOT NULL AND order_ts < before
GROUP BY product_id;

-- return_events(before): every event the return counts are made of, strictly before
-- `before`: one row per order line (units bought, unit price, order), per return (units
-- returned, counted in its product's category) and per customer-service contact.
-- Categories are 'unknown' when none is known.
CREATE OR REPLACE TEMP MACRO return_events(before) AS TABLE
SELECT customer_id, product_id, COALESCE(category, 'unknown') AS category, order_ts AS ts, order_id,
       quantity AS bought_units, unit_price, 0 AS returned_units, 0 AS contacts
FROM staging.transactions
WHERE order_ts < before
UNION ALL
SELECT r.customer_id, r.product_id, COALESCE(p.category, 'unknown'), r.return_ts, NULL, 0, NULL, r.quantity, 0
FROM staging.returns AS r
LEFT JOIN product_categories(before) AS p USING (product_id)
WHERE r.return_ts < before
UNION ALL
SELECT customer_id, NULL, NULL, interaction_ts, NULL, 0, NULL, 0, 1
FROM staging.service_interactions
WHERE interaction_ts < before;
