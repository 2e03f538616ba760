"""Asset checks that gate every refresh, one step of checks per staging table.

Blocking (ERROR) checks stop downstream assets in the same run: every raw row
is staged or quarantined, and each staging table meets its expectation suite.
Warning checks flag days whose volume departs from the same weekday in the
trailing 28 days, once that history is long and busy enough.
"""

from datetime import date, datetime, time, timedelta

import dagster as dg
import duckdb

from segmentation_pipeline.defs.partitions import event_window, first_day
from segmentation_pipeline.defs.resources import Warehouse
from segmentation_pipeline.domain.contract import TABLES, Table
from segmentation_pipeline.domain.quality.volume import MIN_DAILY_EVENTS, MIN_WEEKS, Anomaly, daily_anomalies
from segmentation_pipeline.sql import query
from segmentation_pipeline.sql.staging import window_filter
from segmentation_pipeline.warehouse import Window, last_refresh, reconcile, unbalanced_days

TRAILING_DAYS = 28


def reconciliation(con: duckdb.DuckDBPyConnection, table: Table, window: Window) -> dg.AssetCheckResult:
    """Every raw row of the window is either staged or quarantined, day by day."""
    counts = reconcile(con, table, window)
    broken_days = unbalanced_days(con, table, window) if table.partitioned else []
    listing = "| day | raw | staged | quarantined |\n|---|---:|---:|---:|\n" + "\n".join(
        f"| {day} | {c.raw} | {c.staged} | {c.quarantined} |" for day, c in broken_days[:20]
    )
    return dg.AssetCheckResult(
        check_name="raw_rows_reconcile",
        passed=counts.balanced and not broken_days,
        metadata={
            "raw": counts.raw,
            "staged": counts.staged,
            "quarantined": counts.quarantined,
            "unaccounted": counts.raw - counts.staged - counts.quarantined,
            "unbalanced days": dg.MetadataValue.md(listing if broken_days else "_none_"),
        },
    )


def latest_staged(con: duckdb.DuckDBPyConnection, table: Table, window: Window) -> Window:
    """The days of the window the latest staging of the table wrote (a nightly run: yesterday)."""
    staged = last_refresh(con, f"stg_{table.name}") or window
    if not table.partitioned or staged.end <= window.start or staged.start >= window.end:
        return window
    return Window(max(window.start, staged.start), min(window.end, staged.end))


def expectations(con: duckdb.DuckDBPyConnection, table: Table, window: Window) -> dg.AssetCheckResult:
    """The table's Great Expectations suite on the rows of the days the latest staging wrote."""
    from segmentation_pipeline.domain.quality.expectations import validate_staging

    window = latest_staged(con, table, window)
    frame = con.execute(
        f"SELECT * FROM staging.{table.name} WHERE {window_filter(table)}",
        window.params if table.partitioned else {},
    ).df()
    bounds = (window.start, window.end) if table.partitioned else (None, None)
    result = validate_staging(table, frame, *[_midnight(d) for d in bounds])
    return dg.AssetCheckResult(
        check_name="expectations",
        passed=result.success,
        metadata={
            "rows checked": len(frame),
            "expectations": len(result.outcomes),
            "failed": len(result.failures),
            "result": dg.MetadataValue.md(result.to_markdown()),
        },
    )


def _midnight(day: date | None) -> datetime | None:
    return None if day is None else datetime.combine(day, time())


# Daily metrics a warning check watches (name, query, events): per day from $first to $last, the value
# (NULL where undefined) and the count of events it rests on.
DAILY_METRICS = {
    "transactions": ("orders", "ingest/daily_orders", "orders"),
    "returns": ("returned lines per order line", "ingest/returned_lines_per_order_line", "returned lines"),
}


def daily_series(
    con: duckdb.DuckDBPyConnection, metric_sql: str, window: Window, first_partition: date
) -> list[tuple[date, float, float]]:
    """The metric and its events per day over the window and the trailing days before it (never before the
    first partition)."""
    first = max(window.start - timedelta(days=TRAILING_DAYS), first_partition)
    rows = con.execute(metric_sql, {"first": first, "last": window.end - timedelta(days=1)}).fetchall()
    return [(day, float("nan") if value is None else float(value), float(events)) for day, value, events in rows]


def daily_volume(con: duckdb.DuckDBPyConnection, table: Table, window: Window) -> dg.AssetCheckResult:
    """Each day the latest staging of the table wrote, within the window, against its trailing weeks.

    The flagged days are listed as a table and as `flagged`, a JSON list of day, value and band that the
    command line prints after a run."""
    metric, metric_query, _ = DAILY_METRICS[table.name]
    window = latest_staged(con, table, window)
    series = daily_series(con, query(metric_query), window, first_day())
    days = [(day, a) for day, a in daily_anomalies(metric, series, window.start, TRAILING_DAYS) if day < window.end]
    judged = [(day, a) for day, a in days if a.judged]
    flagged = [(day, a) for day, a in judged if a.is_anomaly]
    listing = "| day | value | trailing median | band |\n|---|---:|---:|---|\n" + "\n".join(
        f"| {day} | {a.value:.3f} | {a.baseline_median:.3f} | {a.lower:.3f} – {a.upper:.3f} |"
        for day, a in flagged[:20]
    )
    return dg.AssetCheckResult(
        check_name="daily_volume_in_trailing_range",
        passed=not flagged,
        severity=dg.AssetCheckSeverity.WARN,
        metadata={
            "days judged": len(judged),
            "days not judged (history too short or too thin)": len(days) - len(judged),
            "days flagged": len(flagged),
            "flagged days": dg.MetadataValue.md(listing if flagged else "_none_"),
            "flagged": dg.MetadataValue.json([flagged_day(day, a) for day, a in flagged]),
        },
    )


def flagged_day(day: date, anomaly: Anomaly) -> dict:
    """A flagged day as the command line prints it: the day, its value and the band it left."""
    return {"day": day.isoformat(), **{k: round(getattr(anomaly, k), 3) for k in ("value", "lower", "upper")}}


def check_specs(table: Table) -> list[dg.AssetCheckSpec]:
    asset = f"stg_{table.name}"
    specs = [
        dg.AssetCheckSpec(
            "raw_rows_reconcile",
            asset=asset,
            blocking=True,
            description="Every raw row is either staged or quarantined: raw = staged + quarantined, "
            + ("for each day of the run's months." if table.partitioned else "for the whole table."),
        ),
        dg.AssetCheckSpec(
            "expectations",
            asset=asset,
            blocking=True,
            description="Great Expectations suite: schema, keys not null and unique, value ranges, allowed values, "
            "event timestamps inside the partition; on the days the latest staging of the table wrote.",
        ),
    ]
    if table.name in DAILY_METRICS:
        metric, _, events = DAILY_METRICS[table.name]
        specs.append(
            dg.AssetCheckSpec(
                "daily_volume_in_trailing_range",
                asset=asset,
                description=f"Warns when a day's {metric} moves more than 4 robust spreads, and more than a factor "
                f"1.75, from the median of the same weekday in the trailing {TRAILING_DAYS} days. Judges the days "
                "the latest staging of the table wrote, within the run's months, once the window holds "
                f"{MIN_WEEKS} of their weekday with a median of at least {MIN_DAILY_EVENTS} {events}.",
            )
        )
    return specs


CHECKS = {
    "raw_rows_reconcile": reconciliation,
    "expectations": expectations,
    "daily_volume_in_trailing_range": daily_volume,
}


def build_table_checks(table: Table) -> dg.AssetChecksDefinition:
    @dg.multi_asset_check(name=f"stg_{table.name}_checks", specs=check_specs(table), can_subset=True)
    def table_checks(context: dg.AssetCheckExecutionContext, warehouse: Warehouse):
        window = event_window(context)
        with warehouse.get_connection() as con:
            for key in sorted(context.selected_asset_check_keys, key=lambda k: k.name):
                yield CHECKS[key.name](con, table, window)

    return table_checks


staging_checks = [build_table_checks(t) for t in TABLES.values()]
