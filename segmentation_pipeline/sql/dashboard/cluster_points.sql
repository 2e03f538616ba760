-- A sample of at most 5,000 segmented customers, the first by a hash of their id (so mostly the same customers from
-- one refresh to the next), with their snapshot on the latest day with segments: the features of their segment.
SELECT s.*, c.customer_segment AS segment
FROM snapshot_on(covered_until('customer_segments')) AS s
JOIN returns.customer_state AS c USING (customer_id)
WHERE c.segment_id IS NOT NULL
ORDER BY md5(s.customer_id)
LIMIT 5000
