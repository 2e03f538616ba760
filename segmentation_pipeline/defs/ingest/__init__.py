"""Raw and staging layers: each contract table copied as text, typed, checked and quarantined, and the data-quality report."""
