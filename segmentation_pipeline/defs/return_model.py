"""Return model layer: train, judge and version the return model; score recent orders and customers."""

from datetime import UTC, datetime

import dagster as dg
import duckdb
import pandas as pd

from segmentation_pipeline.defs.insights import frame_markdown, write_frame
from segmentation_pipeline.defs.metadata import table_schema
from segmentation_pipeline.defs.resources import ReturnModelStore, Warehouse
from segmentation_pipeline.defs.returns import LABELS_SQL, LINE_FACTS_TABLE, RETURN_MACROS_SQL
from segmentation_pipeline.domain.return_features import RETURN_WINDOW_DAYS
from segmentation_pipeline.domain.return_model import batch_scores
from segmentation_pipeline.domain.return_training import ReturnTrainingSettings
from segmentation_pipeline.settings import SETTINGS
from segmentation_pipeline.warehouse import export_table, run_in_transaction

MODEL_RUNS_TABLE = "returns.model_runs"
LINE_SCORES_TABLE = "returns.recent_line_scores"
CUSTOMER_RATES_TABLE = "returns.customer_expected_return_rate"
EXPORTS = {
    LINE_SCORES_TABLE: "return_line_scores.csv",
    CUSTOMER_RATES_TABLE: "customer_expected_return_rate.csv",
}
LINE_SCORE_COLUMNS = {
    "return_probability": "Calibrated probability that the line comes back within the return window.",
    "top_factors": "The three features that move this line's probability most, with the move.",
    "model_version": "The production model that scored the line.",
}
CUSTOMER_RATE_COLUMNS = {
    "expected_return_rate": "Mean return probability of the customer's lines in the scoring period.",
    "scored_lines": "The customer's lines in the scoring period.",
}
MINIMUM_TRAINING_LINES = 200
"""Fewer lines with a known label than this are too few to train and judge a model on."""


class ReturnModelConfig(dg.Config):
    window_days: int = RETURN_WINDOW_DAYS
    """A line counts as returned when the customer returns the product within this many days."""
    gate_margin: float = ReturnTrainingSettings.gate_margin
    """Test ROC AUC a new model may lose against the production model and still be promoted."""
    forest_max_rows: int = ReturnTrainingSettings.forest_max_rows
    """The random forest trains on a seeded sample of at most this many lines."""
    boosting_max_iter: int = ReturnTrainingSettings.boosting_max_iter
    seed: int = ReturnTrainingSettings.seed


def labelled_lines(con: duckdb.DuckDBPyConnection, window_days: int) -> pd.DataFrame:
    """Every order line's facts with its label as far as the staged history knows it."""
    run_in_transaction(con, RETURN_MACROS_SQL, {})
    return con.execute(
        f"SELECT f.*, l.returned, l.label_known FROM {LINE_FACTS_TABLE} AS f "
        f"JOIN ({LABELS_SQL}) AS l USING (order_id, line_no)",
        {
            "start": datetime(1900, 1, 1),
            "end": datetime(9999, 1, 1),
            "window_days": window_days,
            "observed_until": con.sql("SELECT observed_until()").fetchall()[0][0],
        },
    ).df()


def record_run(con: duckdb.DuckDBPyConnection, run: dict) -> None:
    con.execute(
        f"CREATE TABLE IF NOT EXISTS {MODEL_RUNS_TABLE} (trained_at TIMESTAMP, version VARCHAR, algorithm VARCHAR, "
        "test_roc_auc DOUBLE, promoted BOOLEAN, reason VARCHAR, production_version VARCHAR)"
    ).fetchall()
    con.execute(
        f"INSERT INTO {MODEL_RUNS_TABLE} BY NAME SELECT * FROM (SELECT {', '.join(f'${k} AS {k}' for k in run)})", run
    ).fetchall()


@dg.asset(group_name="returns", kinds={"scikitlearn", "duckdb"}, deps=["return_line_facts"])
def return_model(
    config: ReturnModelConfig, warehouse: Warehouse, return_models: ReturnModelStore
) -> dg.MaterializeResult:
    """A new return-probability model trained on past order lines, chosen on a validation period,
    calibrated, and judged on the latest test period against the baselines and the production model.
    Every version is saved with its model card; it goes to production only through the quality gate."""
    from segmentation_pipeline.domain.return_training import train_return_model

    registry = return_models.registry()
    with warehouse.get_connection() as con:
        lines = labelled_lines(con, config.window_days)
        known = int(lines["label_known"].sum())
        if known < MINIMUM_TRAINING_LINES:
            reason = f"not trained: {known} lines with a known label, fewer than {MINIMUM_TRAINING_LINES}"
            record_run(con, run_row(None, None, float("nan"), False, reason, registry.production_version()))
            return dg.MaterializeResult(metadata={"decision": reason})
        settings = ReturnTrainingSettings(
            seed=config.seed,
            gate_margin=config.gate_margin,
            forest_max_rows=config.forest_max_rows,
            boosting_max_iter=config.boosting_max_iter,
        )
        production = registry.load_production()
        comparable = production if production is not None and production.scores_current_features else None
        result = train_return_model(lines, settings, production=comparable)
        decision = result.decision.reason
        if comparable is not production:
            decision += f" (production {production.version} was trained on other features and could not be compared)"
        folder = registry.save(result.model)
        if result.decision.promote:
            registry.promote(result.model.version)
        test_auc = float(result.metrics.loc["model", "roc_auc"])
        record_run(
            con,
            run_row(
                result.model.version,
                result.model.algorithm,
                test_auc,
                result.decision.promote,
                decision,
                registry.production_version(),
            ),
        )
        write_frame(con, "returns.model_metrics", result.metrics.reset_index(names="scorer"))
        write_frame(con, "returns.calibration_curves", result.curves)
        write_frame(con, "returns.key_factors", result.importance)
        for group, rates in result.rates.items():
            write_frame(con, f"returns.return_rates_by_{group}", rates.reset_index())
    model_curve = result.curves[result.curves["scorer"] == "model"].drop(columns="scorer")
    return dg.MaterializeResult(
        metadata={
            "model version": result.model.version,
            "algorithm": result.model.algorithm,
            "promoted": result.decision.promote,
            "decision": decision,
            "production version": str(registry.production_version()),
            "test ROC AUC": test_auc,
            "test metrics (model against baselines)": dg.MetadataValue.md(frame_markdown(result.metrics, 4)),
            "validation metrics (candidates)": dg.MetadataValue.md(frame_markdown(result.validation, 4)),
            "calibration on test (mean predicted against observed)": dg.MetadataValue.md(
                frame_markdown(model_curve, 3)
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


def run_row(version, algorithm, test_auc, promoted, reason, production) -> dict:
    return {
        "trained_at": datetime.now(UTC).replace(tzinfo=None),
        "version": version,
        "algorithm": algorithm,
        "test_roc_auc": test_auc,
        "promoted": promoted,
        "reason": reason,
        "production_version": production,
    }


@dg.asset_check(
    asset=return_model,
    name="new_model_promoted",
    description="Warns when the latest trained model did not pass the quality gate; the previous model "
    "stays in production and the check says why.",
)
def new_model_promoted(warehouse: Warehouse) -> dg.AssetCheckResult:
    with warehouse.get_connection() as con:
        rows = con.sql(
            f"SELECT version, promoted, reason, production_version FROM {MODEL_RUNS_TABLE} "
            "ORDER BY trained_at DESC LIMIT 1"
        ).fetchall()
    version, promoted, reason, production = rows[0] if rows else (None, False, "no model trained yet", None)
    return dg.AssetCheckResult(
        passed=bool(promoted),
        severity=dg.AssetCheckSeverity.WARN,
        metadata={"candidate": str(version), "reason": reason, "in production": str(production)},
    )


class ReturnScoresConfig(dg.Config):
    recent_days: int = 7
    """Lines of orders placed in this many latest days get a batch return probability."""
    customer_days: int = 365
    """A customer's expected return rate averages their lines of this many latest days."""


@dg.multi_asset(
    group_name="returns",
    specs=[
        dg.AssetSpec(
            "recent_return_scores",
            deps=["return_model", "return_line_facts"],
            kinds={"scikitlearn", "duckdb", "csv"},
            description="Return probability and its three strongest factors for every line of the most recent "
            "orders (`returns.recent_line_scores`, `data/exports/return_line_scores.csv`).",
        ),
        dg.AssetSpec(
            "customer_expected_return_rates",
            deps=["return_model", "return_line_facts"],
            kinds={"scikitlearn", "duckdb", "csv"},
            description="Each customer's expected return rate: the mean return probability of their lines of the "
            "latest year (`returns.customer_expected_return_rate`, `data/exports/customer_expected_return_rate.csv`).",
        ),
    ],
)
def return_scores(config: ReturnScoresConfig, warehouse: Warehouse, return_models: ReturnModelStore):
    """The production model's batch scores of recent lines and of customers, in the warehouse and as CSV
    exports for marketing and BI tools."""
    model = return_models.registry().load_production()
    in_force = model.version if model is not None else "none in production"
    if model is not None and not model.scores_current_features:
        model, in_force = None, f"{model.version} was trained on other features; nothing scored"
    with warehouse.get_connection() as con:
        latest = con.sql(f"SELECT max(as_of_day) FROM {LINE_FACTS_TABLE}").fetchall()[0][0]
        facts = con.execute(
            f"SELECT * FROM {LINE_FACTS_TABLE} WHERE as_of_day > CAST($latest AS DATE) - $days",
            {"latest": latest, "days": max(config.recent_days, config.customer_days)},
        ).df()
        recent_start = pd.Timestamp(latest) - pd.Timedelta(days=config.recent_days - 1) if latest else None
        lines, customers = batch_scores(model, facts, recent_start)
        write_frame(con, LINE_SCORES_TABLE, lines)
        write_frame(con, CUSTOMER_RATES_TABLE, customers)
        for table, file_name in EXPORTS.items():
            export_table(con, table, SETTINGS.exports_dir / file_name)
        line_schema = table_schema(con, LINE_SCORES_TABLE, LINE_SCORE_COLUMNS)
        customer_schema = table_schema(con, CUSTOMER_RATES_TABLE, CUSTOMER_RATE_COLUMNS)
    riskiest = lines.sort_values("return_probability", ascending=False).head(5)
    yield dg.MaterializeResult(
        asset_key="recent_return_scores",
        metadata={
            "dagster/row_count": len(lines),
            "dagster/column_schema": line_schema,
            "model version": in_force,
            "riskiest recent lines": dg.MetadataValue.md(frame_markdown(riskiest.set_index("order_id"), 3)),
            "export": dg.MetadataValue.path(str(SETTINGS.exports_dir / EXPORTS[LINE_SCORES_TABLE])),
        },
    )
    yield dg.MaterializeResult(
        asset_key="customer_expected_return_rates",
        metadata={
            "dagster/row_count": len(customers),
            "dagster/column_schema": customer_schema,
            "model version": in_force,
            "mean expected return rate": float(customers["expected_return_rate"].mean()) if len(customers) else 0.0,
            "export": dg.MetadataValue.path(str(SETTINGS.exports_dir / EXPORTS[CUSTOMER_RATES_TABLE])),
        },
    )


return_model_assets = [return_model, return_scores]
return_model_checks = [new_model_promoted]
