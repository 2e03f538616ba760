-- Customers per segment of the previous segmentation (rows, `(new)` for customers who had none) and of the
-- latest (one column per segment, `(gone)` for customers who left).
SELECT * FROM segments.transition_counts
