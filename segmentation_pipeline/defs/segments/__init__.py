"""Customer snapshots, RFM, K-means segments and what is derived from them: profiles, transitions, cohorts."""
