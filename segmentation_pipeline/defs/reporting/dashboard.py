"""The interactive dashboard: one HTML page that opens offline, written from the warehouse on every refresh."""

from datetime import timedelta
from pathlib import Path

import dagster as dg
import duckdb
import pandas as pd

from segmentation_pipeline.defs.helpers import area
from segmentation_pipeline.defs.resources import Artifacts, SourceResource, Warehouse
from segmentation_pipeline.sql import query

PAGE = "dashboard.html"
SOURCE_ASSETS = [
    "stg_transactions",
    "stg_returns",
    "customer_history",
    "customer_segments",
    "segment_profiles",
    "segment_transitions",
    "return_model",
    "return_scoring_state",
    "customer_value",
    "campaign_results",
    "recommendations",
    "next_best_actions",
    "mart_daily_kpis",
    "mart_kpi_anomalies",
]
"""The assets whose tables (and, for `customer_segments`, the segment model) the dashboard reads."""


def query_frames(con: duckdb.DuckDBPyConnection, names: list[str]) -> tuple[dict[str, pd.DataFrame], dict[str, str]]:
    """Each frame from its query `sql/dashboard/<frame>.sql`, in order (a query reads the frames before it as
    `dashboard_<frame>`), and the frames left empty, with the reason: a table they read is not written yet, or
    lacks the columns of results not produced yet (say, campaign lifts before any campaign was large enough to
    test)."""
    frames, left_empty = {}, {}
    for name in names:
        try:
            frames[name] = con.sql(query(f"dashboard/{name}")).df()
        except (duckdb.CatalogException, duckdb.BinderException) as error:
            frames[name], left_empty[name] = pd.DataFrame(), str(error).splitlines()[0]
        else:
            con.register(f"dashboard_{name}", frames[name])
    return frames, left_empty


@dg.asset(**area("reporting"), kinds={"html", "duckdb"}, deps=SOURCE_ASSETS)
def dashboard(warehouse: Warehouse, artifacts: Artifacts, source: SourceResource) -> dg.MaterializeResult:
    """The shop's interactive dashboard (`dashboard.html` in the reports folder): KPIs, segments and their map,
    returns, lifetime value and churn, campaign lifts, cohorts, segment transitions, next best actions and each
    segment's most valuable customers, filtered by segment. One self-contained page that opens offline, built
    from aggregates and top-N rows only, so its size does not grow with the number of customers."""
    from segmentation_pipeline.dashboard import FRAME_COLUMNS, DashboardData, render_dashboard
    from segmentation_pipeline.domain.reporting.frames import segment_map, transition_links

    with warehouse.get_connection() as con:
        as_of, segmented_until = con.sql(
            "SELECT covered_until('stg_transactions'), covered_until('customer_segments')"
        ).fetchall()[0]
        model = artifacts.segment_models().in_force(segmented_until + timedelta(days=1)) if segmented_until else None
        frames, left_empty = query_frames(con, list(FRAME_COLUMNS))
    frames["cluster_points"], projection = segment_map(frames["cluster_points"], model.scaling if model else None)
    frames["transitions"] = transition_links(frames["transitions"])
    data = DashboardData(
        title=f"{source.kind.replace('_', ' ').capitalize()} shop: {Path(source.path).name}",
        as_of=str(as_of) if as_of else "no data yet",
        **frames,
    )
    path = render_dashboard(data, artifacts.report_path(PAGE))
    scaled_by = f"segment model {model.version}" if model else "the sampled customers (no segment model yet)"
    metadata = {
        "path": dg.MetadataValue.path(str(path)),
        "size (MB)": round(path.stat().st_size / 1_000_000, 2),
        "as of": data.as_of,
        "rows per frame": dg.MetadataValue.json({name: len(frame) for name, frame in frames.items()}),
        "segment map": f"{len(frames['cluster_points']):,} customers on the first two principal components of the "
        f"segment features scaled by {scaled_by}; they show {sum(projection.explained):.0%} of the variance",
    }
    if left_empty:
        metadata["frames left empty, and why"] = dg.MetadataValue.json(left_empty)
    return dg.MaterializeResult(metadata=metadata)
