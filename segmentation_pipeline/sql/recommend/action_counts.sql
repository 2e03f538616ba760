-- Customers per next best action and segment.
CREATE OR REPLACE TABLE recommend.action_counts AS
SELECT action, segment, count(*) AS customers FROM recommend.next_best_actions GROUP BY ALL ORDER BY ALL;
