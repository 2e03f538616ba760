-- Every segmented customer's snapshot on the latest day with segments, with their segment.
SELECT s.*, c.segment_id, c.segment_name
FROM snapshot_on(covered_until('customer_segments')) AS s
JOIN segments_on(covered_until('customer_segments')) AS c USING (customer_id)
