-- The facts of the lines from $first to $last (order days) that have no score yet.
SELECT f.*
FROM returns.line_facts AS f
ANTI JOIN returns.line_scores AS s USING (order_id, line_no)
WHERE f.as_of_day >= $first AND f.as_of_day <= $last
