-- Campaign tables a check and the cadence read (the rest are written whole by their asset); the latest campaign.
CREATE SCHEMA IF NOT EXISTS campaigns;
CREATE TABLE IF NOT EXISTS campaigns.sample_ratios (
    campaign_id VARCHAR, variants BIGINT, customers BIGINT, counts VARCHAR, chi2 DOUBLE, p_value DOUBLE
);
CREATE TABLE IF NOT EXISTS campaigns.runs (
    asset VARCHAR, ran_at TIMESTAMP, data_through TIMESTAMP, closed_campaigns VARCHAR
);
CREATE TABLE IF NOT EXISTS campaigns.uplift_audience (
    rank BIGINT, customer_id VARCHAR, uplift DOUBLE, campaign_id VARCHAR, variant VARCHAR
);
CREATE TABLE IF NOT EXISTS campaigns.uplift_deciles (
    customer_id VARCHAR, uplift DOUBLE, uplift_decile BIGINT, campaign_id VARCHAR, variant VARCHAR
);

-- latest_campaign(): the campaign sent last, whose offer the next send repeats (its uplift audience and
-- deciles are the ones marketing acts on).
CREATE OR REPLACE TEMP MACRO latest_campaign() AS (
    SELECT arg_max(campaign_id, sent_ts) FROM staging.campaign_exposures
);
