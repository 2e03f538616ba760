-- Each customer's segment on the latest segmented day beside the true type the source knows ($truth, Parquet).
SELECT c.customer_id, c.segment_name, t.latent_type
FROM segments_on(covered_until('customer_segments')) AS c
JOIN read_parquet($truth) AS t USING (customer_id)
