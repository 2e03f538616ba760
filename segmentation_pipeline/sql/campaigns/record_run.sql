-- Note that $asset analysed the campaigns closed by $data_through ($closed_campaigns, comma-separated).
INSERT INTO campaigns.runs VALUES ($asset, CAST(now() AS TIMESTAMP), $data_through, $closed_campaigns)
