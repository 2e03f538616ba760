-- Returned lines per order line registered that day, from $first to $last (NULL on days without order lines),
-- and the events the rate rests on: the returned lines.
SELECT days.day, COALESCE(returned.n, 0) / ordered.n AS rate, COALESCE(returned.n, 0) AS events
FROM (SELECT CAST(generate_series AS DATE) AS day FROM generate_series($first, $last, INTERVAL 1 DAY)) AS days
LEFT JOIN (SELECT _partition_date AS day, count(*) AS n FROM staging.returns GROUP BY 1) AS returned USING (day)
LEFT JOIN (SELECT _partition_date AS day, count(*) AS n FROM staging.transactions GROUP BY 1) AS ordered USING (day)
ORDER BY 1
