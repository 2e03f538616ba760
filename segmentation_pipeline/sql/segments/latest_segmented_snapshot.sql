-- Every segmented customer's snapshot on the latest day with segments, with their segment.
SELECT s.*, c.segment_id, c.segment_name
FROM features.customer_snapshot AS s
JOIN segments.customer_segments AS c USING (as_of_day, customer_id)
WHERE as_of_day = (SELECT max(as_of_day) FROM segments.customer_segments)
