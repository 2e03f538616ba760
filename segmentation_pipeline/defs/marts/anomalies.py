"""KPI anomalies: every daily KPI judged against the same weekday of the previous weeks, and a warning when
the newest day is out of line."""

import dagster as dg
import pandas as pd

from segmentation_pipeline.defs.helpers import area, frame_markdown, table_schema
from segmentation_pipeline.defs.resources import Artifacts, Warehouse
from segmentation_pipeline.domain.marts.columns import KPI_ANOMALIES, descriptions
from segmentation_pipeline.domain.marts.kpis import newest_anomalies
from segmentation_pipeline.domain.monitoring.anomalies import AnomalySettings, detect_anomalies
from segmentation_pipeline.domain.returns.features import RETURN_WINDOW_DAYS
from segmentation_pipeline.sql import catalog, query
from segmentation_pipeline.warehouse import export_table, run_in_transaction

EXPORTS = {catalog.KPI_ANOMALIES: "marts/kpi_anomalies.parquet", catalog.KPI_CHECKS: "marts/kpi_checks.parquet"}


def anomaly_table(anomalies: pd.DataFrame) -> str:
    """Anomalies as a markdown table: day, metric, value, expected value, normal range and z."""
    shown = anomalies[["day", "metric", "value", "expected", "low", "high", "z"]]
    return frame_markdown(shown.assign(day=shown["day"].dt.date).set_index("day"), 3)


class KpiAnomaliesConfig(dg.Config):
    weeks: int = AnomalySettings.weeks
    """Weeks of earlier days behind a day's expected value (same weekday) and its scale (every day)."""
    min_weeks: int = AnomalySettings.min_weeks
    """A day is flagged only when its baseline holds at least this many values of its weekday."""
    threshold: float = AnomalySettings.threshold
    """A day is an anomaly when it lies more than this many robust scales from its expected value."""
    min_relative_scale: float = AnomalySettings.min_relative_scale
    """Smallest scale as a share of the expected value, so a steady series does not flag small moves."""


@dg.asset(**area("marts"), kinds={"pandas", "duckdb", "parquet"}, deps=["mart_daily_kpis", "mart_segment_sizes"])
def mart_kpi_anomalies(config: KpiAnomaliesConfig, warehouse: Warehouse, artifacts: Artifacts) -> dg.MaterializeResult:
    """Every day of the shop's orders, revenue, active customers, repeat rate, return rate (once the day's
    return window has closed) and every segment's size, judged against the median of the same weekday in the
    previous weeks with a robust (median absolute deviation) scale: all verdicts in `marts.kpi_checks`, the days
    out of line in `marts.kpi_anomalies`, both exported as Parquet."""
    settings = AnomalySettings(
        weeks=config.weeks,
        min_weeks=config.min_weeks,
        threshold=config.threshold,
        min_relative_scale=config.min_relative_scale,
    )
    with warehouse.get_connection() as con:
        series = con.execute(query("marts/kpi_series"), {"return_window_days": RETURN_WINDOW_DAYS}).df()
        judged = detect_anomalies(series, settings)
        con.register("judged_kpis", judged)
        try:
            run_in_transaction(con, query("marts/kpi_tables"), {})
        finally:
            con.unregister("judged_kpis")
        for table, file_name in EXPORTS.items():
            export_table(con, table, artifacts.export_path(file_name))
        schema = table_schema(con, catalog.KPI_ANOMALIES, descriptions(KPI_ANOMALIES))
    anomalies = judged[judged["is_anomaly"]]
    recent = anomalies.sort_values(["day", "metric"], ascending=[False, True]).head(10)
    return dg.MaterializeResult(
        metadata={
            "dagster/row_count": len(anomalies),
            "dagster/column_schema": schema,
            "days judged": int(judged["day"].nunique()),
            "metrics judged": int(judged["metric"].nunique()),
            "anomalies per metric": dg.MetadataValue.json(anomalies["metric"].value_counts().sort_index().to_dict()),
            "latest anomalies": dg.MetadataValue.md(anomaly_table(recent)),
            "exports": dg.MetadataValue.json({t: str(artifacts.export_path(f)) for t, f in EXPORTS.items()}),
            **({"note": "no day judged yet: a day needs a week of history"} if judged.empty else {}),
        }
    )


def flagged_rows(anomalies: pd.DataFrame) -> list[dict]:
    """Anomalies as the metadata lists them: metric, day, value, expected value and normal range."""
    return [
        {
            "metric": row.metric,
            "day": row.day.date().isoformat(),
            "value": round(row.value, 4),
            "expected": round(row.expected, 4),
            "lower": round(row.low, 4),
            "upper": round(row.high, 4),
            "z": round(row.z, 2),
        }
        for row in anomalies.itertuples()
    ]


@dg.asset_check(
    asset=mart_kpi_anomalies,
    name="kpis_within_seasonal_range",
    description="Warns when a KPI of the latest day of data lies outside its seasonal range (the same weekday of "
    "the previous weeks); for the return rate, the latest day whose return window has closed. Anomalies of "
    "earlier days stay in `marts.kpi_anomalies` and are listed, but do not fail the check.",
)
def kpis_within_seasonal_range(warehouse: Warehouse) -> dg.AssetCheckResult:
    with warehouse.get_connection() as con:
        judged = con.sql(f"FROM {catalog.KPI_CHECKS}").df()
    if judged.empty:
        return dg.AssetCheckResult(
            passed=True, severity=dg.AssetCheckSeverity.WARN, metadata={"note": "no day judged yet"}
        )
    newest = newest_anomalies(judged)
    anomalies = judged[judged["is_anomaly"]]
    earlier = anomalies.merge(newest[["day", "metric"]], on=["day", "metric"], how="left", indicator=True)
    earlier = earlier[earlier["_merge"] == "left_only"].sort_values(["day", "metric"], ascending=[False, True])
    return dg.AssetCheckResult(
        passed=newest.empty,
        severity=dg.AssetCheckSeverity.WARN,
        metadata={
            "latest day": judged["day"].max().date().isoformat(),
            "anomalies on the newest days": len(newest),
            "flagged": dg.MetadataValue.json(flagged_rows(newest)),
            "flagged days": dg.MetadataValue.md(anomaly_table(newest)),
            "anomalies on earlier days": len(earlier),
            "latest earlier anomalies": dg.MetadataValue.md(anomaly_table(earlier.head(10))),
        },
    )
