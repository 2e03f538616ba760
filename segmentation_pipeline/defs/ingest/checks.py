"""Asset checks that gate every refresh.

Blocking (ERROR) checks stop downstream assets in the same run: every raw row
is staged or quarantined, and each staging table meets its expectation suite.
Warning checks flag days whose volume departs from the trailing 28 days.
"""

from datetime import date, datetime, time, timedelta

import dagster as dg
import duckdb

from segmentation_pipeline.defs.partitions import event_window, first_day
from segmentation_pipeline.defs.resources import Warehouse
from segmentation_pipeline.domain.contract import TABLES, Table
from segmentation_pipeline.sql import query
from segmentation_pipeline.sql.staging import window_filter
from segmentation_pipeline.warehouse import Window, last_refresh, reconcile, unbalanced_days

TRAILING_DAYS = 28


def build_reconciliation_check(table: Table) -> dg.AssetChecksDefinition:
    @dg.asset_check(
        asset=f"stg_{table.name}",
        name="raw_rows_reconcile",
        blocking=True,
        description=(
            "Every raw row is either staged or quarantined: raw = staged + quarantined, "
            + ("for each day of the run." if table.partitioned else "for the whole table.")
        ),
    )
    def reconciliation_check(context: dg.AssetCheckExecutionContext, warehouse: Warehouse) -> dg.AssetCheckResult:
        window = event_window(context)
        with warehouse.get_connection() as con:
            counts = reconcile(con, table, window)
            broken_days = unbalanced_days(con, table, window) if table.partitioned else []
        listing = "| day | raw | staged | quarantined |\n|---|---:|---:|---:|\n" + "\n".join(
            f"| {day} | {c.raw} | {c.staged} | {c.quarantined} |" for day, c in broken_days[:20]
        )
        return dg.AssetCheckResult(
            passed=counts.balanced and not broken_days,
            metadata={
                "raw": counts.raw,
                "staged": counts.staged,
                "quarantined": counts.quarantined,
                "unaccounted": counts.raw - counts.staged - counts.quarantined,
                "unbalanced days": dg.MetadataValue.md(listing if broken_days else "_none_"),
            },
        )

    return reconciliation_check


def build_expectations_check(table: Table) -> dg.AssetChecksDefinition:
    @dg.asset_check(
        asset=f"stg_{table.name}",
        name="expectations",
        blocking=True,
        description=(
            "Great Expectations suite: schema, keys not null and unique, value ranges, allowed values, "
            "event timestamps inside the partition."
        ),
    )
    def expectations_check(context: dg.AssetCheckExecutionContext, warehouse: Warehouse) -> dg.AssetCheckResult:
        from segmentation_pipeline.domain.quality.expectations import validate_staging

        window = event_window(context)
        with warehouse.get_connection() as con:
            frame = con.execute(
                f"SELECT * FROM staging.{table.name} WHERE {window_filter(table)}",
                window.params if table.partitioned else {},
            ).df()
        bounds = (window.start, window.end) if table.partitioned else (None, None)
        result = validate_staging(table, frame, *[_midnight(d) for d in bounds])
        return dg.AssetCheckResult(
            passed=result.success,
            metadata={
                "rows checked": len(frame),
                "expectations": len(result.outcomes),
                "failed": len(result.failures),
                "result": dg.MetadataValue.md(result.to_markdown()),
            },
        )

    return expectations_check


def _midnight(day: date | None) -> datetime | None:
    return None if day is None else datetime.combine(day, time())


# Daily metrics a warning check watches: one value per day from $first to $last (NULL where undefined).
DAILY_METRICS = {
    "stg_transactions": ("orders", "ingest/daily_orders"),
    "stg_returns": ("returned lines per order line", "ingest/returned_lines_per_order_line"),
}


def daily_series(
    con: duckdb.DuckDBPyConnection, metric_sql: str, window: Window, first_partition: date
) -> list[tuple[date, float]]:
    """The metric per day over the window and the trailing days before it (never before the first partition)."""
    first = max(window.start - timedelta(days=TRAILING_DAYS), first_partition)
    rows = con.execute(metric_sql, {"first": first, "last": window.end - timedelta(days=1)}).fetchall()
    return [(day, float("nan") if value is None else float(value)) for day, value in rows]


def build_volume_check(asset_name: str) -> dg.AssetChecksDefinition:
    metric, metric_query = DAILY_METRICS[asset_name]

    @dg.asset_check(
        asset=asset_name,
        name="daily_volume_in_trailing_range",
        description=(
            f"Warns when a day's {metric} moves more than 4 robust spreads, and more than a factor 1.75, "
            f"from the median of the same weekday in the trailing {TRAILING_DAYS} days. Judges the days "
            "the latest staging of the table wrote, within the run's months."
        ),
    )
    def volume_check(context: dg.AssetCheckExecutionContext, warehouse: Warehouse) -> dg.AssetCheckResult:
        from segmentation_pipeline.domain.quality.volume import daily_anomalies

        window = event_window(context)
        with warehouse.get_connection() as con:
            staged = last_refresh(con, asset_name) or window
            window = Window(max(window.start, staged.start), min(window.end, staged.end))
            series = daily_series(con, query(metric_query), window, first_day())
        judged = [
            (day, a) for day, a in daily_anomalies(metric, series, window.start, TRAILING_DAYS) if day < window.end
        ]
        flagged = [(day, a) for day, a in judged if a.is_anomaly]
        table = "| day | value | trailing median | band |\n|---|---:|---:|---|\n" + "\n".join(
            f"| {day} | {a.value:.3f} | {a.baseline_median:.3f} | {a.lower:.3f} – {a.upper:.3f} |"
            for day, a in flagged[:20]
        )
        return dg.AssetCheckResult(
            passed=not flagged,
            severity=dg.AssetCheckSeverity.WARN,
            metadata={
                "days judged": len(judged),
                "days flagged": len(flagged),
                "flagged days": dg.MetadataValue.md(table if flagged else "_none_"),
            },
        )

    return volume_check


staging_checks = (
    [build_reconciliation_check(t) for t in TABLES.values()]
    + [build_expectations_check(t) for t in TABLES.values()]
    + [build_volume_check(name) for name in DAILY_METRICS]
)
