"""The code location loads, validates with Dagster's own command, and is wired as documented."""

import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import dagster as dg

from segmentation_pipeline.definitions import defs

PROJECT_ROOT = Path(__file__).resolve().parents[1]


def test_definitions_validate_with_the_dagster_cli():
    dagster = Path(sys.executable).with_name("dagster")
    result = subprocess.run(
        [str(dagster), "definitions", "validate", "-w", "workspace.yaml"],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        env=os.environ,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_definitions_load_with_the_dg_cli():
    dg_cli = Path(sys.executable).with_name("dg")
    result = subprocess.run(
        [str(dg_cli), "check", "defs"],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        env=os.environ,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "All definitions loaded successfully" in result.stdout + result.stderr


def test_every_asset_has_an_owner_and_an_area_tag():
    for spec in defs.resolve_all_asset_specs():
        area = spec.tags.get("area")
        assert area in {"ingest", "segments", "returns", "clv", "campaigns", "recommend", "marts", "reporting"}, (
            spec.key
        )
        assert spec.owners == [f"team:{area}"] and spec.group_name == area, spec.key


def test_every_contract_table_has_a_staging_asset_with_gating_checks():
    graph = defs.resolve_asset_graph()
    keys = {k.to_user_string() for k in graph.get_all_asset_keys()}
    for table in ("transactions", "returns", "customers", "campaign_exposures", "service_interactions"):
        assert f"stg_{table}" in keys
        checks = {c.name for c in graph.get_check_keys_for_assets({dg.AssetKey(f"stg_{table}")})}
        assert {"raw_rows_reconcile", "expectations"} <= checks


def test_event_tables_are_partitioned_by_month_and_the_schedule_runs_every_night():
    graph = defs.resolve_asset_graph()
    assert isinstance(graph.get(dg.AssetKey("stg_transactions")).partitions_def, dg.MonthlyPartitionsDefinition)
    assert graph.get(dg.AssetKey("stg_customers")).partitions_def is None
    schedule = defs.resolve_schedule_def("daily_refresh_schedule")
    assert schedule.cron_schedule == "0 2 * * *"
    assert schedule.default_status == dg.DefaultScheduleStatus.RUNNING
    # the test window is January and February 2024: 1 February at 02:00 stages 31 January, in January
    night = dg.build_schedule_context(
        scheduled_execution_time=datetime(2024, 2, 1, 2, tzinfo=UTC), repository_def=defs.get_repository_def()
    )
    [request] = schedule.evaluate_tick(night).run_requests
    assert request.partition_key == "2024-01-01"
    after_the_window = dg.build_schedule_context(
        scheduled_execution_time=datetime(2024, 3, 2, 2, tzinfo=UTC), repository_def=defs.get_repository_def()
    )
    assert not schedule.evaluate_tick(after_the_window).run_requests


def test_a_file_delivered_again_launches_a_refresh_of_every_month(tmp_path):
    from segmentation_pipeline.defs.resources import SourceResource

    sensor = defs.resolve_sensor_def("delivered_files_sensor")
    files = SourceResource(kind="files", path=str(tmp_path), partitions_start="2024-01-01")
    (tmp_path / "transactions.csv").write_text("order_id\n")

    def tick(cursor: str | None, source: SourceResource = files) -> dg.SensorResult:
        context = dg.build_sensor_context(cursor=cursor, resources={"source": source})
        return sensor.evaluate_tick(context)

    first = tick(None)  # the folder as found when watching starts launches nothing
    assert not first.run_requests and first.cursor
    assert not tick(first.cursor).run_requests  # nothing changed
    (tmp_path / "transactions.csv").write_text("order_id\nO1\n")  # corrections for a past day
    [request] = tick(first.cursor).run_requests
    assert request.tags["dagster/asset_partition_range_start"] == "2024-01-01"
    assert request.tags["dagster/asset_partition_range_end"] == "2024-02-01"
    synthetic = SourceResource(kind="synthetic", path=str(tmp_path), partitions_start="2024-01-01")
    assert not tick("anything", synthetic).run_requests


def test_importing_the_code_location_does_not_import_heavy_libraries():
    code = (
        "import sys, segmentation_pipeline.definitions; "
        "print(sorted(m for m in ('great_expectations', 'sklearn', 'scipy') if m in sys.modules))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=os.environ, timeout=120, check=False
    )
    assert out.stdout.strip() == "[]", out.stderr
