-- The parameters predictions use: the chosen models of the latest full fit.
SELECT model, parameter, estimate, time_unit, data_through
FROM clv.model_params
WHERE fit = 'full' AND chosen AND fitted_at = (SELECT max(fitted_at) FROM clv.model_params)
