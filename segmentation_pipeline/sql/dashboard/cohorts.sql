-- Acquisition cohorts (month of first purchase) per segment: the cohort's customers in each segment and how many
-- of them bought in each month since their first.
WITH active_months AS (
    SELECT customer_id, date_trunc('month', order_ts) AS month
    FROM staging.transactions
    GROUP BY customer_id, date_trunc('month', order_ts)
), members AS (
    SELECT f.cohort, date_diff('month', f.cohort, m.month) AS months_since,
           COALESCE(c.customer_segment, 'none') AS segment
    FROM active_months AS m
    JOIN (SELECT customer_id, min(month) AS cohort FROM active_months GROUP BY customer_id) AS f USING (customer_id)
    LEFT JOIN returns.customer_state AS c USING (customer_id)
), cells AS (
    SELECT cohort, months_since, segment, count(*) AS customers
    FROM members
    GROUP BY cohort, months_since, segment
)
SELECT strftime(a.cohort, '%Y-%m') AS cohort, a.months_since, a.segment, a.customers, s.customers AS cohort_size
FROM cells AS a
JOIN cells AS s ON s.cohort = a.cohort AND s.segment = a.segment AND s.months_since = 0
ORDER BY a.cohort, a.months_since, a.segment
