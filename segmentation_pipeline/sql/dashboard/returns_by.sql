-- Units bought and units returned per segment, by product category, by price band (fifths of the order lines'
-- unit prices) and by month of the order. A return counts against the order line it was matched to.
WITH edges AS (
    SELECT quantile_cont(unit_price, 0.2) AS p20, quantile_cont(unit_price, 0.4) AS p40,
           quantile_cont(unit_price, 0.6) AS p60, quantile_cont(unit_price, 0.8) AS p80
    FROM staging.transactions
), lines AS (
    SELECT COALESCE(c.customer_segment, 'none') AS segment, t.order_id, t.product_id, t.quantity AS units,
           COALESCE(t.category, 'unknown') AS category, date_trunc('month', t.order_ts) AS month,
           CASE WHEN t.unit_price < e.p20 THEN 1 WHEN t.unit_price < e.p40 THEN 2 WHEN t.unit_price < e.p60 THEN 3
                WHEN t.unit_price < e.p80 THEN 4 ELSE 5 END AS band
    FROM staging.transactions AS t
    CROSS JOIN edges AS e
    LEFT JOIN returns.customer_state AS c USING (customer_id)
), returned AS (
    -- each returned product of an order: its units returned (at most those bought) and the order line's segment,
    -- category, price band and month
    SELECT l.segment, l.category, max(l.band) AS band, l.month, least(max(r.units), sum(l.units)) AS returned_units
    FROM (
        SELECT order_id, product_id, sum(quantity) AS units FROM staging.returns GROUP BY order_id, product_id
    ) AS r
    JOIN lines AS l USING (order_id, product_id)
    GROUP BY l.segment, l.category, l.month, r.order_id, r.product_id
), units AS (
    SELECT segment, category, band, month, units, 0 AS returned_units FROM lines
    UNION ALL
    SELECT segment, category, band, month, 0, returned_units FROM returned
), band_labels AS (
    SELECT 1 AS band, '< ' || printf('%.2f', p20) AS label FROM edges
    UNION ALL SELECT 2, printf('%.2f', p20) || '-' || printf('%.2f', p40) FROM edges
    UNION ALL SELECT 3, printf('%.2f', p40) || '-' || printf('%.2f', p60) FROM edges
    UNION ALL SELECT 4, printf('%.2f', p60) || '-' || printf('%.2f', p80) FROM edges
    UNION ALL SELECT 5, '>= ' || printf('%.2f', p80) FROM edges
)
SELECT segment, 'category' AS dimension, category AS value, sum(units) AS units,
       sum(returned_units) AS returned_units, 0 AS value_order
FROM units
GROUP BY segment, category
UNION ALL
SELECT u.segment, 'price_band', l.label, sum(u.units), sum(u.returned_units), u.band
FROM units AS u
JOIN band_labels AS l USING (band)
GROUP BY u.segment, u.band, l.label
UNION ALL
SELECT segment, 'month', strftime(month, '%Y-%m'), sum(units), sum(returned_units), 0
FROM units
GROUP BY segment, month
ORDER BY dimension, value_order, value, segment
