-- Every customer's marketing audiences, one row per audience and member, with the customer's scores from
-- `marts.customers`: their segment (`segment/<segment>`), their churn band (`churn_band/<band>`) and, for the
-- latest campaign sent (the next send's), their decile of predicted uplift among today's customers
-- (`campaigns.uplift_deciles`, `uplift_decile/<campaign>_d<NN>`, 1 = highest). `audience_no` numbers the
-- audiences.
CREATE OR REPLACE TEMP TABLE audience_members AS
WITH scores AS (
    SELECT customer_id, segment, churn_band, churn_probability, clv, net_clv, expected_return_rate, next_best_action
    FROM marts.customers
), uplift AS (
    SELECT CAST(campaign_id AS VARCHAR) AS campaign_id, CAST(variant AS VARCHAR) AS variant,
           CAST(customer_id AS VARCHAR) AS customer_id, CAST(uplift AS DOUBLE) AS uplift,
           CAST(uplift_decile AS BIGINT) AS uplift_decile
    FROM campaigns.uplift_deciles
    WHERE campaign_id = latest_campaign()
), members AS (
    SELECT 'segment' AS kind, TRIM(REGEXP_REPLACE(LOWER(segment), '[^a-z0-9]+', '_', 'g'), '_') AS audience,
           customer_id, segment, churn_band, churn_probability, clv, net_clv, expected_return_rate, next_best_action,
           CAST(NULL AS VARCHAR) AS campaign_id, CAST(NULL AS VARCHAR) AS variant, CAST(NULL AS DOUBLE) AS uplift,
           CAST(NULL AS BIGINT) AS uplift_decile
    FROM scores
    UNION ALL
    SELECT 'churn_band', LOWER(churn_band),
           customer_id, segment, churn_band, churn_probability, clv, net_clv, expected_return_rate, next_best_action,
           NULL, NULL, NULL, NULL
    FROM scores
    WHERE churn_band IS NOT NULL
    UNION ALL
    SELECT 'uplift_decile',
           REGEXP_REPLACE(u.campaign_id, '[^A-Za-z0-9_-]+', '_', 'g') || '_d' || LPAD(CAST(u.uplift_decile AS VARCHAR), 2, '0'),
           u.customer_id, s.segment, s.churn_band, s.churn_probability, s.clv, s.net_clv, s.expected_return_rate,
           s.next_best_action, u.campaign_id, u.variant, u.uplift, u.uplift_decile
    FROM uplift AS u
    LEFT JOIN scores AS s ON s.customer_id = u.customer_id
), audiences AS (
    SELECT kind, audience, ROW_NUMBER() OVER (ORDER BY kind, audience) AS audience_no
    FROM (SELECT DISTINCT kind, audience FROM members) AS named
)
SELECT a.audience_no, m.*
FROM members AS m
JOIN audiences AS a ON a.kind = m.kind AND a.audience = m.audience;
