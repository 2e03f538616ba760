"""Thin Dagster wrappers, grouped by layer."""

import warnings

import dagster as dg

# Single-run backfills are the intended way to rebuild history; Dagster still labels the policy beta.
warnings.filterwarnings("ignore", category=dg.BetaWarning)
