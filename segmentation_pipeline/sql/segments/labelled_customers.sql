-- Each customer segmented on the latest segmented day who has a true label (view `customer_labels`,
-- from the source), with the snapshot columns the baseline segmentation uses.
SELECT c.customer_id, c.segment_name, l.label, s.recency_days, s.frequency, s.monetary_net, s.return_rate_units
FROM segments_on(covered_until('customer_segments')) AS c
JOIN snapshot_on(covered_until('customer_segments')) AS s USING (customer_id)
JOIN customer_labels AS l USING (customer_id)
