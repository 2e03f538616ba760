-- Drop the scores that no longer hold: lines before the scoring period ($first), lines of days whose
-- facts were recomputed ($start, $end), and lines scored by another model than $version.
DELETE FROM returns.line_scores
WHERE as_of_day < $first OR (as_of_day >= $start AND as_of_day < $end) OR model_version IS DISTINCT FROM $version
