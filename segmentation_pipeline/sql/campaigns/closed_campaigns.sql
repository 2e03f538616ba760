-- The campaigns whose attribution window of $attribution_days has closed by the latest staged event.
SELECT DISTINCT campaign_id
FROM staging.campaign_exposures
WHERE sent_ts + INTERVAL (CAST($attribution_days AS INTEGER)) DAY <= observed_until()
ORDER BY campaign_id
