"""The return model: trained on past order lines, judged on the latest period, promoted through a gate."""

from datetime import UTC, datetime, timedelta

import dagster as dg
import duckdb
import pandas as pd

from segmentation_pipeline.defs.helpers import area, frame_markdown, table_schema, write_frame
from segmentation_pipeline.defs.resources import Artifacts, Warehouse
from segmentation_pipeline.domain.cadence import RETRAIN_EVERY_DAYS
from segmentation_pipeline.domain.charts import bars_chart
from segmentation_pipeline.domain.returns.evaluation import MODEL_METRICS_COLUMNS
from segmentation_pipeline.domain.returns.settings import ReturnTrainingSettings
from segmentation_pipeline.sql import catalog, query

CALIBRATION_BARS = (("mean_predicted", "predicted"), ("observed_rate", "observed"))


class ReturnModelConfig(dg.Config):
    window_days: int = ReturnTrainingSettings.window_days
    """A line counts as returned when the customer returns the product within this many days."""
    gate_margin: float = ReturnTrainingSettings.gate_margin
    """Test ROC AUC a new model may lose against the production model and still be promoted."""
    forest_max_rows: int = ReturnTrainingSettings.forest_max_rows
    """The random forest trains on a seeded sample of at most this many lines."""
    boosting_max_iter: int = ReturnTrainingSettings.boosting_max_iter
    seed: int = ReturnTrainingSettings.seed
    retrain_every_days: int = RETRAIN_EVERY_DAYS
    """A new model is trained once this many more days of data have arrived since the last one."""
    retrain_now: bool = False
    """Train a new model in this run, whatever the cadence."""
    training_days: int = 730
    """A model learns from the order lines of this many latest days, so training costs the same
    however long the history grows."""


def labelled_lines(con: duckdb.DuckDBPyConnection, window_days: int, training_days: int) -> pd.DataFrame:
    """The facts of the order lines of the latest `training_days`, each with its label as far as the
    staged history knows it."""
    observed_until = con.sql("SELECT observed_until()").fetchall()[0][0]
    return con.execute(
        f"SELECT f.*, l.returned, l.label_known FROM {catalog.LINE_FACTS} AS f "
        f"JOIN ({query('returns/labels')}) AS l USING (order_id, line_no)",
        {
            "start": observed_until - timedelta(days=training_days) if observed_until else datetime(1900, 1, 1),
            "end": datetime(9999, 1, 1),
            "window_days": window_days,
            "observed_until": observed_until,
        },
    ).df()


def recorded_versions(con: duckdb.DuckDBPyConnection) -> tuple[set[str], str | None]:
    """The model versions the training runs recorded, and the one the latest run left in production."""
    versions = {v for (v,) in con.sql(f"SELECT version FROM {catalog.MODEL_RUNS} WHERE version IS NOT NULL").fetchall()}
    latest = con.sql(f"SELECT production_version FROM {catalog.MODEL_RUNS} ORDER BY trained_at DESC LIMIT 1").fetchall()
    return versions, latest[0][0] if latest else None


def record_run(con: duckdb.DuckDBPyConnection, **run) -> None:
    """Add a training run to `returns.model_runs`."""
    run = {"trained_at": datetime.now(UTC).replace(tzinfo=None), **run}
    columns = ", ".join(f"${k} AS {k}" for k in run)
    con.execute(f"INSERT INTO {catalog.MODEL_RUNS} BY NAME SELECT * FROM (SELECT {columns})", run).fetchall()


@dg.asset(**area("returns"), kinds={"scikitlearn", "duckdb"}, deps=["return_line_facts"])
def return_model(config: ReturnModelConfig, warehouse: Warehouse, artifacts: Artifacts) -> dg.MaterializeResult:
    """A new return-probability model, trained on past order lines every `retrain_every_days` days of
    data (or when asked), chosen on a validation period, calibrated, and judged on the latest test
    period against the baselines and the production model. Every version is saved with its model
    card; it goes to production only through the quality gate. Between trainings the model in
    production stays in force."""
    from segmentation_pipeline.domain.cadence import next_training, training_due
    from segmentation_pipeline.domain.returns.gate import too_few_lines, usable
    from segmentation_pipeline.domain.returns.training import train_return_model

    settings = ReturnTrainingSettings(
        **config.model_dump(exclude={"retrain_every_days", "retrain_now", "training_days"})
    )
    registry = artifacts.return_models()
    with warehouse.get_connection() as con:
        registry.settle(*recorded_versions(con))
        latest, last_trained = con.sql(
            f"SELECT covered_until('return_line_facts'), (SELECT max(data_through) FROM {catalog.MODEL_RUNS} "
            "WHERE version IS NOT NULL)"
        ).fetchall()[0]
        why = training_due(last_trained, latest, config.retrain_every_days, config.retrain_now) if latest else None
        if why is None:
            in_force = registry.production_version() or "none"
            due = next_training(last_trained, config.retrain_every_days) if last_trained else "once line facts exist"
            return dg.MaterializeResult(
                metadata={"decision": f"not retrained: model in production {in_force}", "next training": str(due)}
            )
        lines = labelled_lines(con, settings.window_days, config.training_days)
        known = lines[lines["label_known"].astype(bool)]
        refusal = too_few_lines(len(known), int(known["returned"].astype(bool).sum()))
        if refusal:
            record_run(
                con,
                window_days=settings.window_days,
                data_through=latest,
                test_roc_auc=float("nan"),
                promoted=False,
                reason=refusal,
                production_version=registry.production_version(),
            )
            return dg.MaterializeResult(metadata={"decision": refusal, "why trained": why})
        production, not_comparable = usable(registry.load_production(), settings.window_days)
        result = train_return_model(lines, settings, production=production)
        decision = result.decision.reason + (f" ({not_comparable} and could not be compared)" if not_comparable else "")
        folder = registry.save(result.model)
        test_auc = float(result.metrics.loc["model", "roc_auc"])
        production_after = result.model.version if result.decision.promote else registry.production_version()
        con.execute("BEGIN TRANSACTION").fetchall()  # the run is recorded whole or not at all
        record_run(
            con,
            version=result.model.version,
            algorithm=result.model.algorithm,
            window_days=settings.window_days,
            data_through=latest,
            test_roc_auc=test_auc,
            promoted=result.decision.promote,
            reason=decision,
            production_version=production_after,
        )
        write_frame(con, catalog.MODEL_METRICS, result.metrics.reset_index(names="scorer"))
        write_frame(con, catalog.CALIBRATION_CURVES, result.curves)
        write_frame(con, catalog.KEY_FACTORS, result.importance)
        for group, rates in result.rates.items():
            write_frame(con, catalog.RETURN_RATES_BY.format(group=group), rates.reset_index())
        con.execute("COMMIT").fetchall()
        schema = table_schema(con, catalog.MODEL_METRICS, MODEL_METRICS_COLUMNS)
        if result.decision.promote:
            registry.promote(result.model.version)
    model_curve = result.curves[result.curves["scorer"] == "model"].drop(columns="scorer")

    return dg.MaterializeResult(
        metadata={
            "dagster/column_schema": schema,
            "model version": result.model.version,
            "algorithm": result.model.algorithm,
            "return window (days)": settings.window_days,
            "why trained": why,
            "data through": str(latest),
            "promoted": result.decision.promote,
            "decision": decision,
            "production version": str(registry.production_version()),
            "test ROC AUC": test_auc,
            "test metrics (model against baselines)": dg.MetadataValue.md(frame_markdown(result.metrics, 4)),
            "validation metrics (candidates)": dg.MetadataValue.md(frame_markdown(result.validation, 4)),
            "calibration on test (mean predicted against observed)": dg.MetadataValue.md(
                frame_markdown(model_curve, 3)
            ),
            "calibration chart": dg.MetadataValue.md(
                bars_chart(model_curve, "bin", CALIBRATION_BARS, footer="a calibrated model's two bars match per bin")
            ),
            "key factors (permutation importance on test)": dg.MetadataValue.md(
                frame_markdown(result.importance[["feature", "auc_drop", "auc_drop_std"]].head(12), 4)
            ),
            **{
                f"test return rate by {group.replace('_', ' ')}": dg.MetadataValue.md(frame_markdown(rates, 3))
                for group, rates in result.rates.items()
            },
            "model card": dg.MetadataValue.path(str(folder / "card.json")),
        }
    )


@dg.asset_check(
    asset=return_model,
    name="new_model_promoted",
    description="Warns when the latest trained model did not pass the quality gate; the previous model "
    "stays in production and the check says why.",
)
def new_model_promoted(warehouse: Warehouse) -> dg.AssetCheckResult:
    with warehouse.get_connection() as con:
        rows = con.sql(
            f"SELECT version, promoted, reason, production_version FROM {catalog.MODEL_RUNS} "
            "ORDER BY trained_at DESC LIMIT 1"
        ).fetchall()
    version, promoted, reason, production = rows[0] if rows else (None, False, "no model trained yet", None)
    return dg.AssetCheckResult(
        passed=bool(promoted),
        severity=dg.AssetCheckSeverity.WARN,
        metadata={"candidate": str(version), "reason": reason, "in production": str(production)},
    )
