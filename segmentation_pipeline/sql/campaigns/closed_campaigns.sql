-- The campaigns with known outcomes: given by the exposure file, or their attribution window of
-- $attribution_days has closed by the latest staged event.
SELECT DISTINCT campaign_id
FROM staging.campaign_exposures
WHERE converted IS NOT NULL OR revenue IS NOT NULL
   OR sent_ts + INTERVAL (CAST($attribution_days AS INTEGER)) DAY <= observed_until()
ORDER BY campaign_id
