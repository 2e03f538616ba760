"""Customer segments: RFM, K-means with model selection, stability, stable ids and names, profiles, transitions and cohorts."""
