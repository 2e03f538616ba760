-- The return model's held-out scores next to its baselines' (the shop's and the customer's own return rate).
SELECT 'roc_auc' AS name, scorer AS model, roc_auc AS value FROM returns.model_metrics
UNION ALL SELECT 'pr_auc', scorer, pr_auc FROM returns.model_metrics
UNION ALL SELECT 'brier', scorer, brier FROM returns.model_metrics
UNION ALL SELECT 'top_decile_lift', scorer, top_decile_lift FROM returns.model_metrics
UNION ALL SELECT 'calibration_error', scorer, calibration_error FROM returns.model_metrics
