-- Each segmented customer's segment on the day before $cutoff.
SELECT customer_id, segment_name AS segment FROM segments_on(CAST($cutoff AS DATE) - 1)
