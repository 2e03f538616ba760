-- Replace the rows of the models fitted in [$start, $end) with those of `fitted_models` (a registered frame).
DELETE FROM segments.segment_models WHERE fitted_on >= $start AND fitted_on < $end;
INSERT INTO segments.segment_models BY NAME SELECT * FROM fitted_models;
