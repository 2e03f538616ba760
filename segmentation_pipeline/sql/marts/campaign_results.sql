-- The campaign results as BI tools read them, from the flat rows registered as `flat_campaign_results`,
-- with the columns and types the data dictionary names.
CREATE SCHEMA IF NOT EXISTS marts;
CREATE OR REPLACE TABLE marts.campaign_results AS
SELECT
    CAST(campaign_id AS VARCHAR) AS campaign_id,
    CAST(variant AS VARCHAR) AS variant,
    CAST(cut_type AS VARCHAR) AS cut_type,
    CAST(cut AS VARCHAR) AS cut,
    CAST(metric AS VARCHAR) AS metric,
    CAST(status AS VARCHAR) AS status,
    CAST(treated_customers AS BIGINT) AS treated_customers,
    CAST(control_customers AS BIGINT) AS control_customers,
    CAST(treated_value AS DOUBLE) AS treated_value,
    CAST(control_value AS DOUBLE) AS control_value,
    CAST(lift AS DOUBLE) AS lift,
    CAST(lift_low AS DOUBLE) AS lift_low,
    CAST(lift_high AS DOUBLE) AS lift_high,
    CAST(relative_lift AS DOUBLE) AS relative_lift,
    CAST(relative_lift_low AS DOUBLE) AS relative_lift_low,
    CAST(relative_lift_high AS DOUBLE) AS relative_lift_high,
    CAST(p_value AS DOUBLE) AS p_value,
    CAST(p_value_corrected AS DOUBLE) AS p_value_corrected,
    CAST(mde AS DOUBLE) AS mde,
    CAST(guardrail_breached AS BOOLEAN) AS guardrail_breached,
    CAST(is_recommended AS BOOLEAN) AS is_recommended,
    CAST(recommendation AS VARCHAR) AS recommendation
FROM flat_campaign_results;
