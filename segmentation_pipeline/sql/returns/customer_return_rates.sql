-- Each customer's expected return rate: the mean return probability of their scored lines.
CREATE OR REPLACE TABLE returns.customer_expected_return_rate AS
SELECT customer_id, avg(return_probability) AS expected_return_rate, count(*) AS scored_lines
FROM returns.line_scores
GROUP BY customer_id
ORDER BY customer_id
