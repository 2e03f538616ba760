-- The campaign table a check reads; the rest are written whole by their asset.
CREATE SCHEMA IF NOT EXISTS campaigns;
CREATE TABLE IF NOT EXISTS campaigns.sample_ratios (
    campaign_id VARCHAR, variants BIGINT, customers BIGINT, counts VARCHAR, chi2 DOUBLE, p_value DOUBLE
);
