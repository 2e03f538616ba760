"""The Dagster code location: every asset, check, job and schedule found under `defs/`, with the resources."""

from pathlib import Path

import dagster as dg

defs = dg.Definitions.merge(
    dg.load_from_defs_folder(path_within_project=Path(__file__).parent),
    # DuckDB allows one writer: steps of a run execute one after another in one process.
    dg.Definitions(executor=dg.in_process_executor),
)
