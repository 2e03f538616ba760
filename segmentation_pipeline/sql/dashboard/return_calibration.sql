-- The return model's calibration on held-out order lines: mean predicted and observed return share per bin.
SELECT mean_predicted AS predicted, observed_rate AS observed, lines
FROM returns.calibration_curves
WHERE scorer = 'model'
ORDER BY bin
