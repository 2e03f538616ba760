"""A run killed half-way (kill -9) and run again ends where an uninterrupted run ends: the warehouse, the
model registries, the exports and the scoring state."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from segmentation_pipeline.serving.state import current_state
from segmentation_pipeline_tests.pipeline_runs import run, warehouse

DRIVER = """
import sys
from pathlib import Path
from segmentation_pipeline_tests.pipeline_runs import run
run(Path(sys.argv[1]))
"""

RUN_TIME_COLUMNS = {"trained_at", "fitted_at", "ran_at"}
"""Columns that hold when a run happened, not what it computed."""

COVERAGE = "SELECT asset, min(first_day) AS first_day, max(end_day) AS end_day FROM meta.refreshes GROUP BY asset"
"""The refresh log, as the days each asset covers: a killed run leaves more entries, not other days."""

RETURN_MODEL_VERSION = re.compile(r"\d{8}T\d{6}\d*Z")
"""Return model versions are named by the time they were trained."""


def killed_during(folder: Path, step: str) -> None:
    """Start a run of the whole pipeline into `folder` and kill it (SIGKILL) as soon as `step` starts."""
    started = f'Started execution of step "{step}"'
    process = subprocess.Popen(
        [sys.executable, "-c", DRIVER, str(folder)], stderr=subprocess.PIPE, text=True, env=os.environ.copy()
    )
    for line in process.stderr:
        if started in line:
            process.send_signal(signal.SIGKILL)
            break
    process.wait()
    assert process.returncode == -signal.SIGKILL, f"the run ended before {step} started"


def normalised(frame: pd.DataFrame, folder: Path) -> pd.DataFrame:
    """A table's rows without run times, with folder paths and return model versions made comparable."""
    frame = frame.drop(columns=[c for c in frame.columns if c in RUN_TIME_COLUMNS])
    texts = [
        c for c in frame.columns if pd.api.types.is_object_dtype(frame[c]) or pd.api.types.is_string_dtype(frame[c])
    ]
    for column in texts:
        frame[column] = (
            frame[column]
            .astype(str)
            .str.replace(str(folder), "<folder>", regex=False)
            .str.replace(RETURN_MODEL_VERSION, "<version>", regex=True)
        )
    return frame.sort_values(list(frame.columns)).reset_index(drop=True)


def state_of(folder: Path) -> dict[str, object]:
    """Everything a run leaves behind, in a form two runs can be compared by."""
    state: dict[str, object] = {}
    with duckdb.connect(str(warehouse(folder)), read_only=True) as con:
        tables = con.sql(
            "SELECT table_schema || '.' || table_name FROM information_schema.tables "
            "WHERE table_type = 'BASE TABLE' ORDER BY 1"
        ).fetchall()
        for (table,) in tables:
            rows = COVERAGE if table == "meta.refreshes" else f"SELECT * FROM {table}"
            state[table] = normalised(con.sql(rows).df(), folder)
    published = current_state(folder / "serving")
    for path in sorted((folder / "exports").rglob("*.csv")):
        state[f"exports/{path.relative_to(folder / 'exports')}"] = normalised(pd.read_csv(path), folder)
    for path in sorted(published.glob("*.parquet")):
        state[f"serving/{path.name}"] = normalised(pd.read_parquet(path), folder)
    model_json = (published / "model.json").read_text()
    state["model published with the state"] = RETURN_MODEL_VERSION.sub("<version>", model_json)
    state["segment models"] = sorted(p.name for p in (folder / "models" / "segments").iterdir())
    returns = folder / "models" / "returns"
    versions = sorted(p.name for p in returns.iterdir() if p.is_dir())
    state["return models"] = [sorted(f.name for f in (returns / v).iterdir()) for v in versions]
    production = (returns / "production.json").read_text()
    state["return model in production"] = RETURN_MODEL_VERSION.sub("<version>", production)
    assert any(v in production for v in versions), "production names a version that is not saved"
    return state


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory) -> dict[str, object]:
    folder = tmp_path_factory.mktemp("uninterrupted")
    assert run(folder).success
    return state_of(folder)


@pytest.mark.parametrize("step", ["stg_transactions", "customer_segments", "return_model", "return_scoring_state"])
def test_a_run_killed_during_a_step_then_run_again_ends_as_an_uninterrupted_run(uninterrupted, tmp_path, step):
    folder = tmp_path / "killed"
    killed_during(folder, step)
    assert run(folder).success
    after = state_of(folder)
    assert sorted(after) == sorted(uninterrupted)
    for name, expected in uninterrupted.items():
        if isinstance(expected, pd.DataFrame):
            pd.testing.assert_frame_equal(after[name], expected, obj=name)
        else:
            assert after[name] == expected, name
