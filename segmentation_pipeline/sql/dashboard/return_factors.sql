-- What drives the return-risk model: the drop in ROC AUC when a feature is shuffled.
SELECT feature, auc_drop AS importance FROM returns.key_factors ORDER BY importance DESC, feature
