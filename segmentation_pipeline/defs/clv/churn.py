"""The churn model: who buys nothing in the coming days, learnt from the point-in-time customer history,
split by time and judged against P(alive) alone."""

import pickle
from datetime import UTC, datetime, timedelta

import dagster as dg

from segmentation_pipeline.defs.helpers import area, frame_markdown, table_schema, write_frame
from segmentation_pipeline.defs.resources import Warehouse
from segmentation_pipeline.domain.cadence import RETRAIN_EVERY_DAYS
from segmentation_pipeline.domain.clv.churn import CHURN_METRICS_COLUMNS
from segmentation_pipeline.domain.clv.settings import ChurnSettings
from segmentation_pipeline.sql import catalog, query


class ChurnModelConfig(dg.Config):
    horizon_days: int = ChurnSettings.horizon_days
    """A customer has churned when they buy nothing in this many days."""
    seed: int = ChurnSettings.seed
    retrain_every_days: int = RETRAIN_EVERY_DAYS
    """A new model is trained once this many more days of data have arrived."""
    retrain_now: bool = False
    """Train a new model in this run, whatever the cadence."""


@dg.asset(**area("clv"), kinds={"scikitlearn", "duckdb"}, deps=["customer_history", "clv_model"])
def churn_model(config: ChurnModelConfig, warehouse: Warehouse) -> dg.MaterializeResult:
    """A gradient-boosted classifier of churn (no purchase in the next `horizon_days`) on snapshot
    features: trained at the cutoff two horizons before the latest day, judged at the cutoff one horizon
    before it (whose outcome is known by now) against 1 - P(alive) and exp(-expected purchases) of the
    purchase model in force, then refitted at that cutoff to score today. Retrained every `retrain_every_days` days of data."""
    from segmentation_pipeline.domain.cadence import next_training, training_due
    from segmentation_pipeline.domain.clv.churn import too_few, train_churn_model
    from segmentation_pipeline.domain.clv.selection import lifetime_value_baselines, models_in_force

    settings = ChurnSettings(horizon_days=config.horizon_days, seed=config.seed)
    horizon = timedelta(days=config.horizon_days)
    with warehouse.get_connection() as con:
        latest, last_trained = con.sql(
            f"SELECT covered_until('customer_history'), (SELECT max(data_through) FROM {catalog.CHURN_MODELS})"
        ).fetchall()[0]
        why = training_due(last_trained, latest, config.retrain_every_days, config.retrain_now) if latest else None
        if why is None:
            due = (
                next_training(last_trained, config.retrain_every_days) if last_trained else "once customers have bought"
            )
            return dg.MaterializeResult(
                metadata={"decision": "not retrained: the model in force holds", "next training": str(due)}
            )
        in_force = models_in_force(con.sql(query("clv/params_in_force")).df())
        if in_force is None:
            return dg.MaterializeResult(metadata={"decision": "not trained: no lifetime-value model fitted yet"})
        test_cutoff = latest - horizon
        train_cutoff = test_cutoff - horizon
        unit_days = in_force.unit_days
        train, test = (
            con.execute(
                query("clv/customer_summary"),
                {"as_of": cutoff, "holdout_end": cutoff + horizon, "unit_days": unit_days},
            )
            .df()
            .assign(churned=lambda f: f["x_holdout"] == 0)
            for cutoff in (train_cutoff, test_cutoff)
        )
        for name, cutoff, frame in (("train", train_cutoff, train), ("test", test_cutoff, test)):
            if (why_not := too_few(frame["churned"])) is not None:
                decision = f"not trained: {name} cutoff {cutoff}: {why_not}"
                return dg.MaterializeResult(metadata={"decision": decision, "why trained": why})
        baselines = lifetime_value_baselines(test, in_force.purchase_model, config.horizon_days / unit_days)
        result = train_churn_model(train, test, baselines, settings)
        model_auc, baseline_auc = (
            float(result.metrics["roc_auc"].iloc[0]),
            float(result.metrics["roc_auc"].iloc[1:].max()),
        )
        con.execute("BEGIN TRANSACTION").fetchall()
        con.execute(
            f"INSERT INTO {catalog.CHURN_MODELS} VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            [
                datetime.now(UTC).replace(tzinfo=None),
                latest,
                train_cutoff,
                test_cutoff,
                config.horizon_days,
                model_auc,
                baseline_auc,
                pickle.dumps(result.estimator),
            ],
        ).fetchall()
        write_frame(con, catalog.CHURN_METRICS, result.metrics.reset_index())
        write_frame(con, catalog.CHURN_CALIBRATION, result.calibration)
        con.execute("COMMIT").fetchall()
        schema = table_schema(con, catalog.CHURN_METRICS, CHURN_METRICS_COLUMNS)
    return dg.MaterializeResult(
        metadata={
            "dagster/column_schema": schema,
            "why trained": why,
            "train cutoff": str(train_cutoff),
            "test cutoff": str(test_cutoff),
            "horizon (days)": config.horizon_days,
            "train customers": len(train),
            "test customers": len(test),
            "test ROC AUC": model_auc,
            "best baseline ROC AUC": baseline_auc,
            "used for scores": "the model"
            if result.beats_baseline()
            else "exp(-expected purchases): the model did not beat its baselines",
            "test metrics (model against baselines)": dg.MetadataValue.md(frame_markdown(result.metrics, 4)),
            "calibration on test (mean predicted against observed)": dg.MetadataValue.md(
                frame_markdown(result.calibration, 3)
            ),
        }
    )
