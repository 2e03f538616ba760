"""Thin Dagster assets and checks, one folder per area, loaded by `definitions.py` from this folder.

Shared modules (`resources`, `partitions`, `helpers`, `automation`) hold no assets; no asset
module imports another asset module: assets depend on each other by name.
"""

import warnings

import dagster as dg

# Single-run backfills are the intended way to rebuild history; Dagster still labels the policy beta.
warnings.filterwarnings("ignore", category=dg.BetaWarning)
