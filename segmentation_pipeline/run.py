"""Command line: materialise the whole pipeline, or rebuild a range of days, into the local Dagster instance.

    python -m segmentation_pipeline.run                       # every new or changed day of the window
    python -m segmentation_pipeline.run --day 2025-12-31      # the nightly refresh of a day
    python -m segmentation_pipeline.run --start 2025-03-01 --end 2025-03-07   # a backfill (end inclusive)

Without a day or range, the run takes every month of the window and stages the days whose source
rows are new or changed (on a new warehouse: all of them). With a day it takes the month holding
it, as the nightly schedule does for yesterday. A backfill restages every day of the months that
hold the range, whether its source rows changed or not, and the histories from there on.

Prints a line per step as it finishes (asset, rows, seconds, checks) and a summary; Dagster's full
event log goes to a file under the reports folder. Runs are recorded in DAGSTER_HOME, so they show
in the UI started by `make dev`.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from segmentation_pipeline.settings import PROJECT_ROOT, SETTINGS

# One planned-materialisation event per asset for a run over a range of days, not one per day.
os.environ.setdefault("DAGSTER_EMIT_PARTITION_SUBSET_IN_PLANNED_EVENTS", "1")

INSTANCE_CONFIG = """\
# Local Dagster instance for segmentation_pipeline.
# DuckDB allows one writer, so queued runs start one at a time.
run_coordinator:
  module: dagster._core.run_coordinator.queued_run_coordinator
  class: QueuedRunCoordinator
  config:
    max_concurrent_runs: 1
# One event log database: a run records each day of a partitioned asset once, not in two files.
event_log_storage:
  module: dagster._core.storage.event_log
  class: ConsolidatedSqliteEventLogStorage
  config:
    base_dir: {home}/history
telemetry:
  enabled: false
"""
QUIET_CONSOLE = {"loggers": {"console": {"config": {"log_level": "CRITICAL"}}}}


def dagster_home() -> Path:
    return Path(os.environ.get("DAGSTER_HOME", PROJECT_ROOT / ".dagster_home"))


def write_instance_config() -> Path:
    home = dagster_home()
    home.mkdir(parents=True, exist_ok=True)
    (home / "dagster.yaml").write_text(INSTANCE_CONFIG.format(home=home.resolve()))
    return home / "dagster.yaml"


@dataclass
class Progress:
    """Follows a run's events as they are stored: every event to the log file, a line per finished step."""

    instance: Any
    run_id: str
    log: Any
    cursor: str | None = None
    rows: dict[str, dict[str, int]] = field(default_factory=dict)
    checks: dict[str, list[tuple[str, bool, bool]]] = field(default_factory=dict)
    failed_checks: list[str] = field(default_factory=list)
    warned_checks: list[str] = field(default_factory=list)
    flagged: dict[str, list[dict]] = field(default_factory=dict)
    failed_steps: list[str] = field(default_factory=list)

    def poll(self) -> None:
        import dagster as dg

        storage = self.instance.event_log_storage
        while True:
            page = storage.get_records_for_run(self.run_id, cursor=self.cursor, limit=5_000)
            self.cursor = page.cursor
            for record in page.records:
                self.handle(record.event_log_entry, dg)
            if not page.has_more:
                return

    def handle(self, entry: Any, dg: Any) -> None:
        moment = datetime.fromtimestamp(entry.timestamp, UTC).strftime("%H:%M:%S")
        event = entry.dagster_event
        kind = event.event_type_value if event else entry.level
        self.log.write(f"{moment} {entry.step_key or '-'} {kind} {entry.user_message}\n")
        if event is not None and event.event_type == dg.DagsterEventType.RUN_FAILURE:
            if event.event_specific_data.error is not None:  # the run failed outside its steps, e.g. at start
                print(f"    FAILED  {own_error(event.event_specific_data.error)}", flush=True)
            return
        if event is None or not entry.step_key:
            return
        step = entry.step_key
        if event.event_type == dg.DagsterEventType.ASSET_MATERIALIZATION:
            materialization = event.event_specific_data.materialization
            count = materialization.metadata.get("dagster/row_count")
            per_asset = self.rows.setdefault(step, {})
            asset = materialization.asset_key.to_user_string()
            if materialization.partition is None:
                per_asset[asset] = count.value if count is not None else None
            else:  # a run over a range of days records each day with its own rows
                per_asset[asset] = (per_asset.get(asset) or 0) + (count.value if count is not None else 0)
        elif event.event_type == dg.DagsterEventType.ASSET_CHECK_EVALUATION:
            evaluation = event.event_specific_data
            name = f"{evaluation.asset_key.to_user_string()}:{evaluation.check_name}"
            blocking = evaluation.severity == dg.AssetCheckSeverity.ERROR
            self.checks.setdefault(step, []).append((name, evaluation.passed, blocking))
            if not evaluation.passed:
                (self.failed_checks if blocking else self.warned_checks).append(name)
                if "flagged" in evaluation.metadata:
                    self.flagged[name] = evaluation.metadata["flagged"].value
        elif event.event_type == dg.DagsterEventType.STEP_SUCCESS:
            self.print_step(step, event.event_specific_data.duration_ms / 1000, None)
        elif event.event_type == dg.DagsterEventType.STEP_FAILURE:
            error = event.event_specific_data.error
            self.log.write(error.to_string() + "\n")
            self.print_step(step, None, own_error(error))

    def print_step(self, step: str, seconds: float | None, error: str | None) -> None:
        timing = "FAILED" if error else f"{seconds:6.1f} s"
        for asset, count in self.rows.pop(step, {}).items():
            rows = f"{count:>12,} rows" if isinstance(count, int) else ""
            print(f"  {timing:>8}  {asset:<40} {rows}", flush=True)
            timing = ""
        for name, passed, blocking in self.checks.pop(step, []):
            verdict = "passed" if passed else ("FAILED (blocking)" if blocking else "failed (warning)")
            print(f"  {timing:>8}  check {name:<34} {verdict}", flush=True)
            timing = ""
        if error:
            print(f"  {timing:>8}  {step}: {error}", flush=True)
            self.failed_steps.append(step)


def own_error(error: Any) -> str:
    """The first line of the pipeline's own error under Dagster's wrappers of it."""
    while error.cause is not None and error.cls_name.startswith("Dagster"):
        error = error.cause
    return error.message.strip().splitlines()[0]


def flagged_lines(flagged: list[dict], limit: int = 10) -> list[str]:
    """The days (and metrics, where a check judges several) a warning check flagged, with value and band, for the
    console: the first `limit`, then a count."""
    lines = [
        f"{f['day']}{' ' + f['metric'] if 'metric' in f else ''}: {f['value']:g}, outside {f['lower']:g} – {f['upper']:g}"
        for f in flagged[:limit]
    ]
    return lines + ([f"and {len(flagged) - limit} more"] if len(flagged) > limit else [])


def materialize_range(
    first_month: str, last_month: str, instance: Any, log_path: Path, restage: bool = False
) -> tuple[Any, Progress]:
    """Run the daily refresh job over the months [first_month, last_month] (every asset and check, the
    partitions of the range in one run), printing progress as steps finish. With `restage`, every day
    of those months is staged again, changed or not."""
    from dagster._core.utils import make_new_run_id

    from segmentation_pipeline.definitions import defs
    from segmentation_pipeline.domain.contract import EVENT_TABLES

    job = defs.resolve_job_def("daily_refresh")
    run_id = make_new_run_id()
    # The data-quality checks need Great Expectations, seconds to import: load it while the run starts.
    threading.Thread(target=importlib.import_module, args=("great_expectations",), daemon=True).start()
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with log_path.open("w") as log, ThreadPoolExecutor(max_workers=1, thread_name_prefix="run") as runner:
        progress = Progress(instance, run_id, log)
        forced = {f"stg_{t.name}": {"config": {"force": True}} for t in EVENT_TABLES} if restage else {}
        running = runner.submit(
            job.execute_in_process,
            run_config={**QUIET_CONSOLE, "ops": forced},
            instance=instance,
            run_id=run_id,
            tags={"dagster/asset_partition_range_start": first_month, "dagster/asset_partition_range_end": last_month},
            raise_on_error=False,
        )
        while not running.done():
            time.sleep(0.5)
            if instance.has_run(run_id):
                progress.poll()
        progress.poll()
        return running.result(), progress


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--day", help="refresh the month holding this day, as the nightly schedule does")
    parser.add_argument("--start", help="first day to materialise (default: first partition)")
    parser.add_argument("--end", help="last day to materialise, inclusive (default: last partition)")
    parser.add_argument("--write-instance-config", action="store_true", help="write DAGSTER_HOME/dagster.yaml")
    args = parser.parse_args(argv)
    if args.write_instance_config:
        print(f"Dagster instance config: {write_instance_config()}")
        return 0

    began = time.monotonic()
    log_path = SETTINGS.reports_dir / "logs" / f"run-{datetime.now(UTC):%Y%m%dT%H%M%S}.log"
    print(f"Source: {SETTINGS.source} ({SETTINGS.source_path})", flush=True)
    print(f"Dagster event log: {log_path}", flush=True)

    import logging
    import warnings

    import dagster as dg

    from segmentation_pipeline.defs.partitions import month_key, monthly_partitions
    from segmentation_pipeline.defs.reporting.dashboard import PAGE

    logging.captureWarnings(True)
    logging.getLogger("py.warnings").addHandler(logging.FileHandler(log_path.with_suffix(".warnings.log"), delay=True))
    logging.getLogger("py.warnings").propagate = False
    warnings.simplefilter("default")
    keys = monthly_partitions.get_partition_keys()
    first = month_key(date.fromisoformat(args.start or args.day)) if args.start or args.day else keys[0]
    last = month_key(date.fromisoformat(args.end or args.day)) if args.end or args.day else keys[-1]
    backfill = bool(args.start or args.end)
    what = "every day restaged" if backfill else "new or changed days staged"
    print(f"Months {first} .. {last} ({what}): every asset and check, listed as each finishes", flush=True)
    with dg.DagsterInstance.get() as instance:
        result, progress = materialize_range(first, last, instance, log_path, restage=backfill)
    print(f"Finished in {time.monotonic() - began:.0f} s.")
    print(f"Warehouse: {SETTINGS.warehouse_path}")
    print("  raw.*, staging.* and staging.quarantine (reason codes and original values of rejected rows)")
    print("  features.customer_history, segments.* (RFM, segments and their histories, profiles, transitions, cohorts)")
    print("  returns.line_facts, returns.model_runs, returns.line_scores, returns.customer_expected_return_rate")
    print(
        "  clv.model_params, clv.holdout_validation, clv.churn_metrics, clv.customer_value (CLV, net CLV, churn risk)"
    )
    print("  campaigns.ab_results, campaigns.recommendations, campaigns.uplift_audience (A/B results per segment)")
    print(
        "  recommend.lists, recommend.evaluation, recommend.next_best_actions (products to recommend, next best action)"
    )
    print("  marts.* (stable tables for BI tools, also as Parquet under exports/marts/; docs/data-dictionary.md)")
    print(f"Return models: {SETTINGS.return_models_dir} (production.json names the version in production)")
    print(f"Segment models: {SETTINGS.segment_models_dir}")
    print(f"Exports (CSV, Parquet marts, audiences): {SETTINGS.exports_dir}")
    print(f"Serving files for the return scoring service: {SETTINGS.serving_dir}")
    print(f"Reports: {SETTINGS.reports_dir} (data_quality.md: rows kept and quarantined, by reason)")
    print(f"Dashboard: {SETTINGS.reports_dir / PAGE} (open it in a browser; it works offline)")
    print(f"Dagster runs and check results: {dagster_home()} (browse with `make dev`)")
    for name in progress.warned_checks:
        print(f"warning check failed: {name}")
        for line in flagged_lines(progress.flagged.get(name, [])):
            print(f"    {line}")
    for line in progress.failed_checks:
        print(f"BLOCKING CHECK FAILED: {line}")
    if not result.success or progress.failed_checks or progress.failed_steps:
        print(f"Run failed: see the lines above, {log_path} or the run in the Dagster UI.", file=sys.stderr)
        return 1
    print("Run succeeded: every blocking check passed.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
