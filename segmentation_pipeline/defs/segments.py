"""Segments layer: RFM segments and model-based customer segments per customer and day."""

import json
import pickle
from datetime import date, timedelta
from pathlib import Path

import dagster as dg
import duckdb
import pandas as pd

from segmentation_pipeline.defs.features import SNAPSHOT_TABLE
from segmentation_pipeline.defs.metadata import counts_markdown, table_schema
from segmentation_pipeline.defs.partitions import daily_partitions, event_window, single_run_backfill
from segmentation_pipeline.defs.resources import Warehouse
from segmentation_pipeline.domain.segmentation import INPUT_COLUMNS, STABILITY_THRESHOLD, SegmentationSettings
from segmentation_pipeline.warehouse import Window, replace_days

RFM_TABLE = "segments.rfm"
RFM_COLUMNS = {
    "r_score": "Recency score 1-5 (5 = bought most recently), ties never split.",
    "f_score": "Frequency score 1-5 (5 = most orders).",
    "m_score": "Monetary score 1-5 (5 = most net money kept).",
    "rfm_cell": "The three scores as text, e.g. 545.",
    "rfm_score": "R + F + M, 3-15.",
    "rfm_segment": "Named segment from the R x FM grid (Champions ... Lost).",
}
# Days scored together; bounds memory on long backfills.
CHUNK_DAYS = 31


def last_day_counts(con: duckdb.DuckDBPyConnection, table: str, group: str, window: Window) -> list[tuple[str, int]]:
    """Customers per group on the last day of the window that has rows, largest first."""
    return con.execute(
        f"SELECT {group}, count(*) FROM {table} WHERE as_of_day = "
        f"(SELECT max(as_of_day) FROM {table} WHERE as_of_day < $end) GROUP BY 1 ORDER BY 2 DESC",
        {"end": window.end},
    ).fetchall()


def chunks(window: Window, days: int = CHUNK_DAYS) -> list[Window]:
    starts = range(0, (window.end - window.start).days, days)
    return [Window(window.start + timedelta(d), min(window.start + timedelta(d + days), window.end)) for d in starts]


@dg.asset(
    group_name="segments",
    kinds={"duckdb", "pandas"},
    partitions_def=daily_partitions,
    backfill_policy=single_run_backfill,
    deps=[dg.AssetDep("customer_snapshot")],
)
def rfm_segments(context: dg.AssetExecutionContext, warehouse: Warehouse) -> dg.MaterializeResult:
    """RFM scores (quintiles that stay meaningful under ties) and the standard named RFM segment
    of every customer, for each day."""
    from segmentation_pipeline.domain.rfm import rfm_scores_by_day

    window = event_window(context)
    rows = 0
    with warehouse.get_connection() as con:
        for chunk in chunks(window):
            snapshots = con.execute(
                f"SELECT as_of_day, customer_id, recency_days, frequency, monetary_net FROM {SNAPSHOT_TABLE} "
                "WHERE as_of_day >= $start AND as_of_day < $end",
                chunk.params,
            ).df()
            con.register("scored_days", rfm_scores_by_day(snapshots))
            columns = ", ".join(["as_of_day", "customer_id", *RFM_COLUMNS])
            rows += replace_days(con, RFM_TABLE, chunk, f"SELECT {columns} FROM scored_days")
            con.unregister("scored_days")
        last_day = dict(last_day_counts(con, RFM_TABLE, "rfm_segment", window))
        schema = table_schema(con, RFM_TABLE, RFM_COLUMNS)
    return dg.MaterializeResult(
        metadata={
            "dagster/row_count": rows,
            "dagster/column_schema": schema,
            "customers per segment on the last day": dg.MetadataValue.md(counts_markdown(last_day, "segment")),
        }
    )


SEGMENTS_TABLE = "segments.customer_segments"
MODELS_TABLE = "segments.segment_models"
SNAPSHOT_FEATURES = ", ".join(INPUT_COLUMNS)


class SegmentationConfig(dg.Config):
    k_min: int = SegmentationSettings.k_min
    """Smallest number of segments searched."""
    k_max: int = SegmentationSettings.k_max
    """Largest number of segments searched."""
    algorithm: str = SegmentationSettings.algorithm
    """`kmeans` (MiniBatchKMeans above 50,000 customers) or `gmm` (Gaussian mixture)."""
    refit_every_days: int = SegmentationSettings.refit_every_days
    """Days a model stays in force before it is refitted on the day's customers."""
    seed: int = SegmentationSettings.seed
    stability_bootstraps: int = SegmentationSettings.stability_bootstraps
    """Bootstrap refits used to measure stability (adjusted Rand index, per-segment Jaccard)."""


def models_dir(warehouse: Warehouse) -> Path:
    return Path(warehouse.database).parent / "models" / "segments"


def ensure_model_registry(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("CREATE SCHEMA IF NOT EXISTS segments").fetchall()
    con.execute(
        f"CREATE TABLE IF NOT EXISTS {MODELS_TABLE} (version VARCHAR, fitted_on DATE, algorithm VARCHAR, k INTEGER, "
        "k_reason VARCHAR, mean_ari DOUBLE, customers BIGINT, names JSON, k_scores JSON, path VARCHAR)"
    ).fetchall()


def model_in_force(con: duckdb.DuckDBPyConnection, day: date):
    """The latest model version fitted before `day`, or None."""
    rows = con.execute(
        f"SELECT path FROM {MODELS_TABLE} WHERE fitted_on < $day ORDER BY fitted_on DESC LIMIT 1", {"day": day}
    ).fetchall()
    return pickle.loads(Path(rows[0][0]).read_bytes()) if rows else None


def register_model(con: duckdb.DuckDBPyConnection, fitted, folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{fitted.version}.pkl"
    path.write_bytes(pickle.dumps(fitted))
    con.execute(
        f"INSERT INTO {MODELS_TABLE} VALUES ($version, $fitted_on, $algorithm, $k, $reason, $ari, $customers, "
        "$names, $scores, $path)",
        {
            "version": fitted.version,
            "fitted_on": fitted.fitted_on,
            "algorithm": fitted.model.algorithm,
            "k": fitted.model.k,
            "reason": fitted.k_reason,
            "ari": fitted.stability.mean_ari,
            "customers": fitted.customers,
            "names": json.dumps({str(k): v for k, v in fitted.names.items()}),
            "scores": fitted.k_scores.to_json(orient="records"),
            "path": str(path),
        },
    ).fetchall()


K_SCORES_SCHEMA = dg.TableSchema(
    columns=[
        dg.TableColumn("k", "int", description="Number of segments."),
        dg.TableColumn("inertia", "float", description="Within-segment sum of squares (lower is tighter)."),
        dg.TableColumn("silhouette", "float", description="Mean silhouette width (higher is better)."),
        dg.TableColumn("davies_bouldin", "float", description="Davies-Bouldin index (lower is better)."),
        dg.TableColumn("calinski_harabasz", "float", description="Calinski-Harabasz index (higher is better)."),
    ]
)


def k_scores_table(scores: pd.DataFrame) -> dg.MetadataValue:
    """The model-selection scores as a typed metadata table, one row per k (undefined scores empty)."""
    columns = [c.name for c in K_SCORES_SCHEMA.columns]
    typed = scores[columns].astype({"k": "int64"}).round(4).astype(object)
    records = [dg.TableRecord(row) for row in typed.where(typed.notna(), None).to_dict("records")]
    return dg.MetadataValue.table(records=records, schema=K_SCORES_SCHEMA)


@dg.asset(
    group_name="segments",
    kinds={"duckdb", "scikitlearn"},
    partitions_def=daily_partitions,
    backfill_policy=single_run_backfill,
    deps=[dg.AssetDep("customer_snapshot")],
)
def customer_segments(
    context: dg.AssetExecutionContext, config: SegmentationConfig, warehouse: Warehouse
) -> dg.MaterializeResult:
    """Every customer's behavioural segment (K-means on transformed, scaled snapshot features) for each day.
    The model is versioned and refitted every `refit_every_days`; refits keep segment ids by matching
    centroids, so ids and names do not flip between daily refreshes."""
    from segmentation_pipeline.domain.charts import k_scores_chart
    from segmentation_pipeline.domain.clustering import apply_scaling, compare_algorithms
    from segmentation_pipeline.domain.segmentation import needs_refit, refit

    settings = SegmentationSettings(**config.model_dump())
    window = event_window(context)
    refits = []
    rows = 0
    with warehouse.get_connection() as con:
        ensure_model_registry(con)
        con.execute(
            f"DELETE FROM {MODELS_TABLE} WHERE fitted_on >= $start AND fitted_on < $end", window.params
        ).fetchall()
        current = model_in_force(con, window.start)
        for chunk in chunks(window):
            snapshots = con.execute(
                f"SELECT as_of_day, {SNAPSHOT_FEATURES} FROM {SNAPSHOT_TABLE} "
                "WHERE as_of_day >= $start AND as_of_day < $end ORDER BY as_of_day, customer_id",
                chunk.params,
            ).df()
            assigned = []
            for as_of_day, snapshot in snapshots.groupby("as_of_day", sort=True):
                day = as_of_day.date()
                if needs_refit(current, day, settings) and len(snapshot) > settings.k_max:
                    current = refit(snapshot, day, current, settings)
                    register_model(con, current, models_dir(warehouse))
                    refits.append(current)
                    refit_snapshot = snapshot
                if current is not None:
                    assigned.append(current.assign(snapshot).assign(as_of_day=day))
            con.register("assigned_days", pd.concat(assigned) if assigned else EMPTY_ASSIGNMENTS)
            rows += replace_days(
                con,
                SEGMENTS_TABLE,
                chunk,
                "SELECT CAST(as_of_day AS DATE) AS as_of_day, customer_id, segment_id, segment_name, model_version "
                "FROM assigned_days",
            )
            con.unregister("assigned_days")
        sizes = last_day_counts(con, SEGMENTS_TABLE, "segment_id || ' ' || segment_name", window)
    metadata = {
        "dagster/row_count": rows,
        "model refits in this run": len(refits),
        "customers per segment on the last day": dg.MetadataValue.md(counts_markdown(dict(sizes), "segment")),
    }
    if refits:
        latest = refits[-1]
        features = apply_scaling(refit_snapshot, latest.scaling)
        alternatives = compare_algorithms(features, range(config.k_min, config.k_max + 1), seed=config.seed)
        metadata |= {
            "K-means against a Gaussian mixture (latest refit day)": dg.MetadataValue.md(
                alternatives.round(3).to_markdown(index=False)
            ),
            "model version": latest.version,
            "k": latest.model.k,
            "how k was chosen": latest.k_reason,
            "model selection scores": k_scores_table(latest.k_scores),
            "model selection chart": dg.MetadataValue.md(k_scores_chart(latest.k_scores, latest.model.k)),
            "stability: mean adjusted Rand index": round(latest.stability.mean_ari, 3),
            "stability: Jaccard per segment": dg.MetadataValue.json(
                {latest.names[s]: round(j, 3) for s, j in latest.stability.jaccard.items()}
            ),
        }
    return dg.MaterializeResult(metadata=metadata)


EMPTY_ASSIGNMENTS = pd.DataFrame(
    {
        "customer_id": pd.Series(dtype="str"),
        "segment_id": pd.Series(dtype="int64"),
        "segment_name": pd.Series(dtype="str"),
        "model_version": pd.Series(dtype="str"),
        "as_of_day": pd.Series(dtype="datetime64[us]"),
    }
)


@dg.asset_check(
    asset=customer_segments,
    name="segments_are_stable",
    description=f"Warns when the latest model's bootstrap mean adjusted Rand index is below {STABILITY_THRESHOLD}.",
)
def segments_are_stable(warehouse: Warehouse) -> dg.AssetCheckResult:
    with warehouse.get_connection() as con:
        ensure_model_registry(con)
        latest = con.sql(f"SELECT version, k, mean_ari FROM {MODELS_TABLE} ORDER BY fitted_on DESC LIMIT 1").fetchall()
    if not latest:
        return dg.AssetCheckResult(
            passed=True, severity=dg.AssetCheckSeverity.WARN, metadata={"model": "none fitted yet"}
        )
    version, k, mean_ari = latest[0]
    return dg.AssetCheckResult(
        passed=mean_ari >= STABILITY_THRESHOLD,
        severity=dg.AssetCheckSeverity.WARN,
        metadata={"model version": version, "k": k, "mean adjusted Rand index": round(mean_ari, 3)},
    )


segment_assets = [rfm_segments, customer_segments]
segment_checks = [segments_are_stable]
