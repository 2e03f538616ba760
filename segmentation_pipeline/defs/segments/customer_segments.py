"""K-means customer segments per customer and day, from a versioned model refitted on a cadence."""

import dagster as dg
import pandas as pd

from segmentation_pipeline.defs.helpers import (
    area,
    counts_markdown,
    daily_snapshots,
    iso_day,
    replace_days_with_changes,
    table_schema,
)
from segmentation_pipeline.defs.resources import Artifacts, Warehouse
from segmentation_pipeline.domain.segments.refit import (
    INPUT_COLUMNS,
    SEGMENT_HISTORY_COLUMNS,
    STABILITY_THRESHOLD,
    SegmentationSettings,
)
from segmentation_pipeline.sql import catalog, query
from segmentation_pipeline.warehouse import dirty_window, run_in_transaction


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
    min_customers: int = SegmentationSettings.min_customers
    """No segment model before a day has this many customers; earlier days get RFM segments only."""
    min_segment_customers: int = SegmentationSettings.min_segment_customers
    """No segment may hold fewer customers (nor less than 1% of them): a k that needs one is not used."""
    recompute_from: str | None = None
    """Recompute the segments from this day on (ISO date), refits included, e.g. after changing the
    settings above; empty: only the days whose customer history changed since the last run."""


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


@dg.asset(**area("segments"), kinds={"duckdb", "scikitlearn"}, deps=["customer_history"])
def customer_segments(config: SegmentationConfig, warehouse: Warehouse, artifacts: Artifacts) -> dg.MaterializeResult:
    """Every customer's behavioural segment (K-means on transformed, scaled snapshot features) for each
    day, stored as the days a customer's segment changed; any day's segments are each customer's latest
    row on or before it (`segments_on(day)` in SQL). The model is versioned and refitted every
    `refit_every_days`; between refits each day is assigned with the model in force. Refits keep
    segment ids by matching centroids, so ids and names do not flip between daily refreshes."""
    from segmentation_pipeline.domain.charts import k_scores_chart
    from segmentation_pipeline.domain.segments.features import apply_scaling
    from segmentation_pipeline.domain.segments.refit import segment_changes
    from segmentation_pipeline.domain.segments.registry import model_rows
    from segmentation_pipeline.domain.segments.selection import compare_algorithms

    settings = SegmentationSettings(**config.model_dump(exclude={"recompute_from"}))
    registry = artifacts.segment_models()
    with warehouse.get_connection() as con:
        recompute_from = iso_day("recompute_from", config.recompute_from)
        window = dirty_window(con, "customer_segments", ["customer_history"], recompute_from)
        if window is None:
            return dg.MaterializeResult(
                metadata={"days recomputed": 0, "note": "no history changed since the last run"}
            )
        registry.forget(window.start, window.end)
        days = daily_snapshots(con, window, list(INPUT_COLUMNS[1:]))
        changes, refits, last_refit_snapshot = [], [], None
        for segmented in segment_changes(days, len(days.customer_ids), registry.in_force(window.start), settings):
            changes.append(segmented.changes)
            if segmented.refit is not None:
                registry.save(segmented.refit)
                refits.append(segmented.refit)
                last_refit_snapshot = segmented.snapshot
        con.register("fitted_models", model_rows(refits, registry))
        run_in_transaction(con, query("segments/replace_segment_models"), window.params)
        con.unregister("fitted_models")
        rows = replace_days_with_changes(
            con, catalog.SEGMENT_HISTORY, window, changes, refreshed_by="customer_segments"
        )
        sizes = con.sql(
            "SELECT segment_id || ' ' || segment_name, count(*) FROM segments_on(covered_until('customer_segments')) "
            "GROUP BY 1 ORDER BY 2 DESC"
        ).fetchall()
        schema = table_schema(con, catalog.SEGMENT_HISTORY, SEGMENT_HISTORY_COLUMNS)
    days_recomputed = (window.end - window.start).days
    metadata = {
        "dagster/row_count": rows,
        "dagster/column_schema": schema,
        "days recomputed": days_recomputed,
        "days without a segment model": days_recomputed - len(changes),
        "model refits in this run": len(refits),
        "customers per segment on the last day": dg.MetadataValue.md(counts_markdown(dict(sizes), "segment")),
    }
    if len(changes) < days_recomputed:
        metadata["why some days have no segments"] = (
            f"no segment model is fitted on fewer than {settings.min_customers} customers; "
            "those days have RFM segments only"
        )
    if refits:
        latest = refits[-1]
        features = apply_scaling(last_refit_snapshot, latest.scaling)
        k_values = range(config.k_min, config.k_max + 1)
        alternatives = compare_algorithms(features, latest.model.k, k_values, seed=config.seed)
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


@dg.asset_check(
    asset=customer_segments,
    name="segments_are_stable",
    description=f"Warns when the latest model's bootstrap mean adjusted Rand index is below {STABILITY_THRESHOLD}.",
)
def segments_are_stable(warehouse: Warehouse) -> dg.AssetCheckResult:
    with warehouse.get_connection() as con:
        latest = con.sql(
            f"SELECT version, k, mean_ari FROM {catalog.SEGMENT_MODELS} ORDER BY fitted_on DESC LIMIT 1"
        ).fetchall()
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
