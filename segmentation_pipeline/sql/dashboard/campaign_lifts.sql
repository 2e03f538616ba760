-- Conversion lift over control of every tested campaign variant, overall and per segment of the customers
-- exposed, with its confidence interval, its p-value corrected for multiple comparisons and whether the
-- variant is the one recommended for that audience.
SELECT
    a.campaign_id,
    a.variant,
    CASE WHEN a.cut_type = 'all' THEN 'overall' ELSE a.cut END AS cut,
    a.conversion_lift AS lift,
    a.conversion_lift_low AS low,
    a.conversion_lift_high AS high,
    a.conversion_p_corrected AS p_adjusted,
    COALESCE(r.recommended_variant = a.variant, false) AS recommended
FROM campaigns.ab_results AS a
LEFT JOIN campaigns.recommendations AS r
    ON r.campaign_id = a.campaign_id AND r.cut_type = a.cut_type AND r.cut = a.cut
WHERE a.cut_type IN ('all', 'segment') AND a.conversion_lift IS NOT NULL
ORDER BY a.campaign_id, a.cut_type, cut, a.variant
