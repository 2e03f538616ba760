"""Products each customer is likely to buy and keep: item-to-item similarity with segment popularity,
ranked by expected kept value, judged against popularity on a time split."""

import pickle
from datetime import UTC, datetime

import dagster as dg
import numpy as np
import pandas as pd

from segmentation_pipeline.defs.helpers import area, frame_markdown, table_schema, write_frame
from segmentation_pipeline.defs.resources import Artifacts, Warehouse
from segmentation_pipeline.domain.cadence import RETRAIN_EVERY_DAYS
from segmentation_pipeline.domain.charts import bars_chart
from segmentation_pipeline.domain.recommend.settings import RecommendSettings
from segmentation_pipeline.sql import catalog, query
from segmentation_pipeline.warehouse import export_table

EXPORT = "recommendations.csv"
EVALUATION_BARS = (("hit_rate", "hit rate@10"), ("ndcg", "NDCG@10"), ("coverage", "coverage"))


class RecommendationsConfig(dg.Config):
    top_n: int = RecommendSettings.top_n
    """Products recommended per customer."""
    exclusion_days: int = RecommendSettings.exclusion_days
    """Products the customer bought within this many days are not recommended."""
    max_return_risk: float = RecommendSettings.max_return_risk
    """Products this customer would return with a higher predicted probability are not recommended."""
    lookback_days: int = RecommendSettings.lookback_days
    """Purchases of this many days make up each customer's basket history."""
    horizon_days: int = RecommendSettings.horizon_days
    """The evaluation counts the purchases of this many days after its split."""
    refit_every_days: int = RETRAIN_EVERY_DAYS
    """The recommender is chosen, judged and refitted once this many more days of data have arrived;
    in between, the lists of customers with new purchases are recomputed with the recommender in force."""
    refit_now: bool = False
    """Choose, judge and refit in this run, whatever the cadence."""


def _settings(config: RecommendationsConfig) -> RecommendSettings:
    return RecommendSettings(
        top_n=config.top_n,
        exclusion_days=config.exclusion_days,
        max_return_risk=config.max_return_risk,
        lookback_days=config.lookback_days,
        horizon_days=config.horizon_days,
    )


@dg.asset(
    **area("recommend"),
    kinds={"scipy", "duckdb", "csv"},
    deps=["stg_transactions", "stg_returns", "stg_customers", "customer_segments", "return_model"],
)
def recommendations(config: RecommendationsConfig, warehouse: Warehouse, artifacts: Artifacts) -> dg.MaterializeResult:
    """The top products per customer (`recommend.lists`, exported as `recommendations.csv`), each with its
    probability of purchase, return risk for this customer, expected kept value and the products it came
    from. Candidates come from item-to-item weights learnt on customers' baskets plus their segment's
    popularity; products bought within `exclusion_days` or above `max_return_risk` are left out; the
    rest are ranked by probability x price x (1 - return risk). Every `refit_every_days` the settings are
    chosen on a validation window and the recommender is judged against global and segment popularity on
    the following window (`recommend.evaluation`), using only data before each window."""
    from segmentation_pipeline.domain.cadence import training_due
    from segmentation_pipeline.domain.recommend.recommender import LIST_COLUMNS, Period, lists_today, recommend
    from segmentation_pipeline.domain.returns.features import RETURN_WINDOW_DAYS, build_features
    from segmentation_pipeline.domain.returns.gate import usable

    settings = _settings(config)
    model, why_no_model = usable(artifacts.return_models().load_production(), RETURN_WINDOW_DAYS)
    horizon = pd.Timedelta(days=settings.horizon_days)
    with warehouse.get_connection() as con:
        now, last_fit, last_run = con.sql(
            f"SELECT observed_until(), (SELECT max(data_through) FROM {catalog.RECOMMEND_RUNS} WHERE kind = 'fit'), "
            f"(SELECT max(data_through) FROM {catalog.RECOMMEND_RUNS})"
        ).fetchall()[0]
        if now is None:
            return dg.MaterializeResult(metadata={"decision": "nothing to recommend: no transactions staged"})
        today = pd.Timestamp(now)

        def period(cutoff: pd.Timestamp, judged: bool) -> Period:
            window = {
                "cutoff": cutoff,
                "lookback_start": cutoff - pd.Timedelta(days=settings.lookback_days),
                "recent_start": cutoff - pd.Timedelta(days=settings.exclusion_days),
            }
            return Period(
                cutoff,
                con.execute(query("recommend/purchases"), window).df(),
                con.execute(query("recommend/segments"), {"cutoff": cutoff}).df(),
                con.execute(query("recommend/prices"), {"cutoff": cutoff}).df().set_index("product_id")["price"],
                con.execute(query("recommend/window_outcomes"), {"start": cutoff, "end": cutoff + horizon}).df()
                if judged
                else None,
            )

        def return_risk(pairs: pd.DataFrame, cutoff: pd.Timestamp) -> np.ndarray:
            if model is None or pairs.empty:
                return np.full(len(pairs), np.nan)
            con.register("candidate_pairs", pairs.assign(pair_no=np.arange(len(pairs))))
            facts = con.execute(query("recommend/candidate_facts"), {"before": cutoff}).df()
            con.unregister("candidate_pairs")
            return model.predict(build_features(facts))

        last_day = (today - pd.Timedelta(days=1)).date()
        why = training_due(last_fit, last_day, config.refit_every_days, config.refit_now)
        metadata = {}
        if why is not None:
            split = today - horizon - pd.Timedelta(days=RETURN_WINDOW_DAYS)
            result = recommend(
                period(split - horizon, True), period(split, True), period(today, False), return_risk, settings
            )
            lists, dropped = result.lists, result.dropped_for_risk
            con.execute("BEGIN TRANSACTION").fetchall()
            write_frame(con, catalog.RECOMMENDATIONS, lists)
            write_frame(con, catalog.RECOMMEND_EVALUATION, result.evaluation.assign(split=split.date()))
            write_frame(con, catalog.RECOMMEND_SELECTION, result.selection)
            con.execute(
                f"CREATE OR REPLACE TABLE {catalog.RECOMMEND_MODEL} AS SELECT ? AS data_through, ? AS model",
                [last_day, pickle.dumps((result.model, result.rank_probability))],
            ).fetchall()
            metadata = {
                "decision": f"chosen, judged and refitted: {why}",
                f"judged on purchases from {split.date()} for {settings.horizon_days} days": dg.MetadataValue.md(
                    frame_markdown(result.evaluation.set_index("method"), 4)
                ),
                "evaluation chart": dg.MetadataValue.md(
                    bars_chart(result.evaluation, "method", EVALUATION_BARS, footer="higher is better")
                ),
                "settings tried on the validation window": dg.MetadataValue.md(frame_markdown(result.selection, 4)),
                "chosen": f"l2 {result.model.l2:g}, mix {result.model.mix:g}",
                "probability of purchase by candidate rank": dg.MetadataValue.json(
                    [round(float(p), 4) for p in result.rank_probability]
                ),
            }
        else:
            item_model, probability = pickle.loads(
                con.sql(f"SELECT model FROM {catalog.RECOMMEND_MODEL}").fetchall()[0][0]
            )
            changed = con.execute(query("recommend/customers_with_news"), {"since": last_run}).df()["customer_id"]
            if changed.empty:
                return dg.MaterializeResult(
                    metadata={"decision": f"lists unchanged: no customer bought or returned anything after {last_run}"}
                )
            lists, dropped = lists_today(
                item_model, probability, period(today, False), return_risk, settings, pd.Index(changed)
            )
            con.execute("BEGIN TRANSACTION").fetchall()
            con.register("updated_lists", lists)
            con.register("changed_customers", changed.to_frame())
            con.execute(query("recommend/replace_lists")).fetchall()
            con.unregister("updated_lists")
            con.unregister("changed_customers")
            metadata = {
                "decision": f"lists of the {len(changed):,} customers with news since {last_run} recomputed "
                "with the recommender in force",
            }
        con.execute(
            f"INSERT INTO {catalog.RECOMMEND_RUNS} VALUES (?, ?, ?, ?)",
            [
                datetime.now(UTC).replace(tzinfo=None),
                last_day,
                "fit" if why else "update",
                lists["customer_id"].nunique(),
            ],
        ).fetchall()
        con.execute("COMMIT").fetchall()
        export_table(con, catalog.RECOMMENDATIONS, artifacts.export_path(EXPORT))
        rows, customers = con.sql(
            f"SELECT count(*), count(DISTINCT customer_id) FROM {catalog.RECOMMENDATIONS}"
        ).fetchall()[0]
        schema = table_schema(con, catalog.RECOMMENDATIONS, LIST_COLUMNS)
    return dg.MaterializeResult(
        metadata={
            **metadata,
            "dagster/row_count": int(rows),
            "dagster/column_schema": schema,
            "customers with a list": int(customers),
            "candidates dropped for return risk": dropped,
            "return model": model.version if model else (why_no_model or "none in production: no risk filter"),
            "export": dg.MetadataValue.path(str(artifacts.export_path(EXPORT))),
        }
    )
