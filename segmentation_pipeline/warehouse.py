"""Runs the warehouse SQL: loading raw windows, staging them, reconciling counts.

Each write replaces a window inside one transaction, so re-running a window
never duplicates rows and a failure leaves the previous rows in place.
"""

from __future__ import annotations

import fcntl
import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import duckdb

from segmentation_pipeline.domain.contract import Table
from segmentation_pipeline.domain.quality.report import TableCounts
from segmentation_pipeline.sources.base import RawSource
from segmentation_pipeline.sql import query
from segmentation_pipeline.sql.catalog import QUARANTINE, REFRESHES
from segmentation_pipeline.sql.staging import (
    create_tables_sql,
    load_raw_sql,
    source_days_sql,
    stage_sql,
    table_counts_sql,
    unbalanced_days_sql,
    unplaced_counts_sql,
    unplaced_rows_sql,
    window_filter,
)


@dataclass(frozen=True)
class Window:
    """Half-open range of event days [start, end); unpartitioned tables ignore it."""

    start: date
    end: date

    @property
    def params(self) -> dict[str, date]:
        return {"start": self.start, "end": self.end}

    def days(self) -> list[date]:
        return [self.start + timedelta(days=d) for d in range((self.end - self.start).days)]


@dataclass(frozen=True)
class Reconciliation:
    raw: int
    staged: int
    quarantined: int

    @property
    def balanced(self) -> bool:
        return self.raw == self.staged + self.quarantined


def replace_days(
    con: duckdb.DuckDBPyConnection,
    table: str,
    window: Window,
    select_sql: str,
    params: dict | None = None,
    refreshed_by: str | None = None,
) -> int:
    """Replace the rows of `table` whose `as_of_day` lies in the window with the rows of a query.

    The table is created from the query's columns on first use; with `refreshed_by`, the same
    transaction records that this asset rewrote the window. Returns the rows written.
    """
    params = {**window.params, **(params or {}), "asset": refreshed_by}
    schema = table.split(".")[0]
    con.execute(f"CREATE SCHEMA IF NOT EXISTS {schema}").fetchall()
    create = f"CREATE TABLE IF NOT EXISTS {table} AS SELECT * FROM ({select_sql}) LIMIT 0"
    con.execute(create, params_used(params, create)).fetchall()
    run_in_transaction(
        con,
        f"DELETE FROM {table} WHERE as_of_day >= $start AND as_of_day < $end;\n"
        f"INSERT INTO {table} BY NAME {select_sql};\n" + (query("meta/record_refresh") if refreshed_by else ""),
        params,
    )
    return con.execute(
        f"SELECT count(*) FROM {table} WHERE as_of_day >= $start AND as_of_day < $end", window.params
    ).fetchall()[0][0]


class WarehouseInUse(RuntimeError):
    """Another run holds the warehouse."""


@contextmanager
def holding_warehouse(path: Path, holder: str) -> Iterator[None]:
    """Hold the warehouse at ``path`` for one run, or fail at once naming the run that holds it.

    DuckDB lets one process write a file, and a run opens and closes connections step by step: without
    a lock for the whole run, a second run could write between two steps of the first. The lock is
    an advisory lock on ``<warehouse>.lock``, which names its holder; the system releases it when the
    holding process ends, however it ends.
    """
    lock_path = path.with_name(path.name + ".lock")
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    with lock_path.open("a+") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            other = handle.read().strip() or "another process"
            raise WarehouseInUse(
                f"{path} is held by {other}: wait until it ends (the schedule and the UI queue their runs), "
                "then run again"
            ) from None
        handle.seek(0)
        handle.truncate()
        handle.write(f"{holder} (pid {os.getpid()}, since {datetime.now(UTC):%Y-%m-%d %H:%M:%S} UTC)\n")
        handle.flush()
        try:
            yield
        finally:
            handle.truncate(0)
            fcntl.flock(handle, fcntl.LOCK_UN)


class OutdatedWarehouse(RuntimeError):
    """A warehouse whose tables lack columns this version of the pipeline writes."""


def ensure_tables(con: duckdb.DuckDBPyConnection) -> None:
    """Create every table the pipeline writes, where missing, and the macros its queries use."""
    con.execute(create_tables_sql()).fetchall()
    for name in (
        "meta/refreshes_table",
        "segments/history_tables",
        "returns/score_tables",
        "returns/model_runs_table",
        "returns/events",
        "clv/tables",
        "campaigns/tables",
        "recommend/tables",
    ):
        try:
            con.execute(query(name)).fetchall()
        except duckdb.BinderException as error:
            (path,) = con.execute(
                "SELECT path FROM duckdb_databases() WHERE database_name = current_database()"
            ).fetchone()
            raise OutdatedWarehouse(
                f"{path}: built by an earlier version of the pipeline ({error}). The raw files are untouched: "
                "delete the warehouse file and run again to rebuild it."
            ) from error


def connect(database: str | Path = ":memory:", config: dict[str, str] | None = None) -> duckdb.DuckDBPyConnection:
    """A connection to a warehouse with every table and macro in place; the functions below expect one."""
    con = duckdb.connect(str(database), config=config or {})
    ensure_tables(con)
    return con


def record_refresh(con: duckdb.DuckDBPyConnection, asset: str, window: Window) -> None:
    """Note that `asset` rewrote the days of the window."""
    con.execute(query("meta/record_refresh"), {"asset": asset, **window.params}).fetchall()


def last_refresh(con: duckdb.DuckDBPyConnection, asset: str) -> Window | None:
    """The days the latest refresh of `asset` wrote, or None before its first."""
    rows = con.execute(
        f"SELECT first_day, end_day FROM {REFRESHES} WHERE asset = $asset ORDER BY refresh DESC LIMIT 1",
        {"asset": asset},
    ).fetchall()
    return Window(*rows[0]) if rows else None


def dirty_window(
    con: duckdb.DuckDBPyConnection, asset: str, inputs: list[str], recompute_from: date | None = None
) -> Window | None:
    """The days `asset` must recompute because its inputs rewrote them since it last ran (or, asked
    for, every day it has covered from `recompute_from` on), or None when nothing changed."""
    first, end = con.execute(query("meta/dirty_window"), {"asset": asset, "inputs": inputs}).fetchall()[0]
    if recompute_from:
        covered = con.execute(query("meta/covered"), {"asset": asset}).fetchall()[0][0] or recompute_from
        first, end = min(first or recompute_from, recompute_from), max(end or covered, covered)
    return None if first is None or first >= end else Window(first, end)


def params_used(params: dict, statement: str) -> dict:
    """The parameters a statement names outside its comments (DuckDB refuses unused ones)."""
    code = re.sub(r"--[^\n]*", "", statement)
    return {k: v for k, v in params.items() if re.search(rf"\${k}\b", code)}


def run_in_transaction(con: duckdb.DuckDBPyConnection, script: str, params: dict) -> None:
    """Run `;`-separated statements atomically, each with the parameters it names."""
    con.execute("BEGIN TRANSACTION").fetchall()
    try:
        for statement in filter(str.strip, script.split(";\n")):
            con.execute(statement, params_used(params, statement)).fetchall()
        con.execute("COMMIT").fetchall()
    except BaseException:
        con.execute("ROLLBACK").fetchall()
        raise


def export_table(con: duckdb.DuckDBPyConnection, relation: str, path: Path) -> None:
    """Write a relation to a Parquet or CSV file (by the file's suffix) atomically: readers see the
    old file or the new one, never a part."""
    formats = {".parquet": "FORMAT parquet", ".csv": "FORMAT csv, HEADER true"}
    if path.suffix not in formats:
        raise ValueError(f"cannot export to {path}: expected a .parquet or .csv file")
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.partial")
    con.execute(f"COPY (SELECT * FROM {relation}) TO '{partial}' ({formats[path.suffix]})").fetchall()
    os.replace(partial, path)


def load_raw_window(con: duckdb.DuckDBPyConnection, source: RawSource, table: Table, window: Window) -> int:
    """Replace the window's raw rows from the source; returns the rows loaded."""
    run_in_transaction(con, load_raw_sql(table, source.table_sql(con, table)), window.params)
    return count_rows(con, f"raw.{table.name}", table, window)


def quarantine_unplaced_rows(
    con: duckdb.DuckDBPyConnection,
    source: RawSource,
    tables: list[Table],
    first_day: date,
    last_day_end: date | None,
    now: datetime,
) -> dict[str, int]:
    """Quarantine every source row that no event day can hold.

    Returns counts per `table:reason`, plus `table:pending` for rows dated after
    the last partition but not in the future (they wait for their partition).
    """
    summary: dict[str, int] = {}
    params = {"now": now, "first_day": first_day, "end": last_day_end}
    for table in tables:
        source_select = source.table_sql(con, table)
        unplaced, pending = con.execute(unplaced_counts_sql(table, source_select), params).fetchall()[0]
        held = con.execute(
            f"SELECT count(*) FROM {QUARANTINE} WHERE table_name = $table AND partition_date IS NULL",
            {"table": table.name},
        ).fetchall()[0][0]
        if unplaced or held:  # the full rows are read only when there is something to quarantine or release
            run_in_transaction(con, unplaced_rows_sql(table, source_select), params)
        summary |= {
            f"{table.name}:{reason}": n
            for reason, n in con.execute(
                f"SELECT reason, count(*) FROM {QUARANTINE} WHERE table_name = $table AND partition_date IS NULL "
                "GROUP BY 1 ORDER BY 1",
                {"table": table.name},
            ).fetchall()
        }
        if pending:
            summary[f"{table.name}:pending"] = pending
    return summary


def days_to_stage(
    con: duckdb.DuckDBPyConnection, source: RawSource, table: Table, window: Window, force: bool = False
) -> Window | None:
    """The days of the window to (re)stage, from the first to the last whose source rows are new,
    changed or gone since they were last staged (every day of the window when forced), or None."""
    fingerprints = source_days_sql(table, source.table_sql(con, table))
    con.execute(fingerprints, params_used(window.params, fingerprints)).fetchall()
    if force:
        return window
    params = {"table": table.name, **window.params}
    days = [row[0] for row in con.execute(query("meta/changed_days"), params).fetchall()]
    if not table.partitioned:
        return window if days else None
    return Window(days[0], days[-1] + timedelta(days=1)) if days else None


def stage_window(
    con: duckdb.DuckDBPyConnection, table: Table, window: Window, staged_by: str | None = None
) -> Reconciliation:
    """Type, check and split the window's raw rows into staging and quarantine. With `staged_by` (after
    `days_to_stage`), the same transaction records what the source held for each day and, for an
    event table, the refresh for the histories."""
    script = stage_sql(table)
    if staged_by:
        script += query("meta/record_staged") + (query("meta/record_refresh") if table.partitioned else "")
    run_in_transaction(con, script, {**window.params, "asset": staged_by, "table": table.name})
    return reconcile(con, table, window)


def staged_per_month(con: duckdb.DuckDBPyConnection, table: Table, window: Window) -> dict[str, int]:
    """Staged rows of each whole month the window touches, keyed by the month's first day (ISO)."""
    months = sorted({day.replace(day=1) for day in window.days()})
    counts = dict(
        con.execute(
            f"SELECT CAST(date_trunc('month', _partition_date) AS DATE), count(*) FROM staging.{table.name} "
            "WHERE date_trunc('month', _partition_date) IN (SELECT unnest($months)) GROUP BY 1",
            {"months": months},
        ).fetchall()
    )
    return {month.isoformat(): counts.get(month, 0) for month in months}


def count_rows(con: duckdb.DuckDBPyConnection, relation: str, table: Table, window: Window) -> int:
    sql = f"SELECT count(*) FROM {relation} WHERE {window_filter(table)}"
    return con.execute(sql, window.params if table.partitioned else {}).fetchall()[0][0]


def reconcile(con: duckdb.DuckDBPyConnection, table: Table, window: Window) -> Reconciliation:
    """Raw, staged and quarantined row counts of a window."""
    quarantined = con.execute(
        f"SELECT count(*) FROM {QUARANTINE} WHERE table_name = $table AND {window_filter(table, 'partition_date')}",
        {"table": table.name, **(window.params if table.partitioned else {})},
    ).fetchall()[0][0]
    return Reconciliation(
        raw=count_rows(con, f"raw.{table.name}", table, window),
        staged=count_rows(con, f"staging.{table.name}", table, window),
        quarantined=quarantined,
    )


def unbalanced_days(con: duckdb.DuckDBPyConnection, table: Table, window: Window) -> list[tuple[date, Reconciliation]]:
    """Days of the window whose raw rows are not all staged or quarantined (empty when every day balances)."""
    rows = con.execute(unbalanced_days_sql(table), {"table": table.name, **window.params}).fetchall()
    return [(day, Reconciliation(raw, staged, quarantined)) for day, raw, staged, quarantined in rows]


def quarantine_by_reason(con: duckdb.DuckDBPyConnection, table: Table, window: Window) -> dict[str, int]:
    rows = con.execute(
        f"SELECT reason || COALESCE(':' || field, ''), count(*) FROM {QUARANTINE} "
        f"WHERE table_name = $table AND {window_filter(table, 'partition_date')} GROUP BY 1 ORDER BY 2 DESC",
        {"table": table.name, **(window.params if table.partitioned else {})},
    ).fetchall()
    return dict(rows)


def customers_fingerprint(con: duckdb.DuckDBPyConnection) -> int:
    """A number that changes when any staged customer's signup changes (what the histories read of customers)."""
    return con.sql("SELECT COALESCE(sum(hash(customer_id, signup_ts)), 0) FROM staging.customers").fetchall()[0][0]


def table_totals(con: duckdb.DuckDBPyConnection, tables: list[Table]) -> list[TableCounts]:
    """Per table over every loaded day: raw rows (those on a day of the window, in `raw.<table>`, plus the
    unplaced), staged rows, quarantined rows with an event day, and unplaced rows."""
    totals = []
    for table in tables:
        loaded, staged, quarantined, unplaced = con.sql(table_counts_sql(table)).fetchall()[0]
        totals.append(TableCounts(table.name, loaded + unplaced, staged, quarantined, unplaced))
    return totals


def quarantine_reasons(con: duckdb.DuckDBPyConnection) -> list[tuple[str, str, int]]:
    """Quarantined rows per table and reason (with the field it concerns)."""
    return con.sql(
        f"SELECT table_name, reason || COALESCE(':' || field, ''), count(*) FROM {QUARANTINE} "
        "GROUP BY ALL ORDER BY 1, 3 DESC"
    ).fetchall()
