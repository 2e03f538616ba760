"""Command line: materialise the whole pipeline, or a range of days, into the local Dagster instance.

    python -m segmentation_pipeline.run                       # every day of the configured window
    python -m segmentation_pipeline.run --start 2025-03-01 --end 2025-03-07   # a backfill (end inclusive)

Runs are recorded in DAGSTER_HOME, so they show in the UI started by `make dev`.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import dagster as dg

from segmentation_pipeline.settings import PROJECT_ROOT, SETTINGS

INSTANCE_CONFIG = """\
# Local Dagster instance for segmentation_pipeline.
# DuckDB allows one writer, so queued runs start one at a time.
run_coordinator:
  module: dagster._core.run_coordinator.queued_run_coordinator
  class: QueuedRunCoordinator
  config:
    max_concurrent_runs: 1
telemetry:
  enabled: false
"""


def dagster_home() -> Path:
    return Path(os.environ.get("DAGSTER_HOME", PROJECT_ROOT / ".dagster_home"))


def write_instance_config() -> Path:
    home = dagster_home()
    home.mkdir(parents=True, exist_ok=True)
    (home / "dagster.yaml").write_text(INSTANCE_CONFIG)
    return home / "dagster.yaml"


def materialize_range(start: str, end: str, instance: dg.DagsterInstance) -> dg.ExecuteInProcessResult:
    """Materialise every asset and check, with partitioned assets covering [start, end] in one run."""
    from segmentation_pipeline.definitions import defs

    return dg.materialize(
        [*defs.assets, *defs.asset_checks],
        resources=defs.resources,
        instance=instance,
        tags={"dagster/asset_partition_range_start": start, "dagster/asset_partition_range_end": end},
        raise_on_error=False,
    )


def report(result: dg.ExecuteInProcessResult) -> tuple[list[str], list[str]]:
    """Failed blocking checks and failed warning checks, as lines naming asset and check."""
    errors, warnings_ = [], []
    for evaluation in result.get_asset_check_evaluations():
        if not evaluation.passed:
            line = f"{evaluation.asset_key.to_user_string()}:{evaluation.check_name}"
            (errors if evaluation.severity == dg.AssetCheckSeverity.ERROR else warnings_).append(line)
    return errors, warnings_


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--start", help="first day to materialise (default: first partition)")
    parser.add_argument("--end", help="last day to materialise, inclusive (default: last partition)")
    parser.add_argument("--write-instance-config", action="store_true", help="write DAGSTER_HOME/dagster.yaml")
    args = parser.parse_args(argv)
    if args.write_instance_config:
        print(f"Dagster instance config: {write_instance_config()}")
        return 0

    from segmentation_pipeline.defs.partitions import daily_partitions

    keys = daily_partitions.get_partition_keys()
    start, end = args.start or keys[0], args.end or keys[-1]
    print(f"Source: {SETTINGS.source} ({SETTINGS.source_path}); days {start} .. {end}")
    with dg.DagsterInstance.get() as instance:
        result = materialize_range(start, end, instance)
    errors, warnings_ = report(result)
    print(f"Warehouse: {SETTINGS.warehouse_path}")
    print("  raw.*, staging.* and staging.quarantine (reason codes and original values of rejected rows)")
    print("  features.customer_snapshot, segments.* (RFM, K-means segments, profiles, transitions, cohorts)")
    print("  returns.line_facts, returns.model_runs, returns.recent_line_scores, returns.customer_expected_return_rate")
    print(f"Return models: {SETTINGS.return_models_dir} (production.json names the version in production)")
    print(f"Exports (CSV): {SETTINGS.exports_dir}")
    print(f"Serving files for the return scoring service: {SETTINGS.serving_dir}")
    print(f"Reports: {SETTINGS.reports_dir} (data_quality.md: rows kept and quarantined, by reason)")
    print(f"Dagster runs and check results: {dagster_home()} (browse with `make dev`)")
    for line in warnings_:
        print(f"warning check failed: {line}")
    for line in errors:
        print(f"BLOCKING CHECK FAILED: {line}")
    if not result.success or errors:
        print("Run failed: see the messages above or the run in the Dagster UI.", file=sys.stderr)
        return 1
    print("Run succeeded: every blocking check passed.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
