"""Marts for BI tools and marketing: stable tables of the `marts` schema rebuilt every run and exported as
Parquet, KPI anomaly alerts, and audience CSVs."""
