"""Thin Dagster wrappers, grouped by layer."""
