"""The next best action per customer, its audiences, and what the scoring service answers about it."""

from pathlib import Path

import dagster as dg

from segmentation_pipeline.defs.helpers import area, frame_markdown, table_schema, write_frame
from segmentation_pipeline.defs.resources import Artifacts, Warehouse
from segmentation_pipeline.domain.recommend.settings import ActionSettings
from segmentation_pipeline.sql import catalog, query
from segmentation_pipeline.warehouse import export_table

AUDIENCES = "audiences/next_best_action"


class NextBestActionsConfig(dg.Config):
    high_return_rate: float = ActionSettings.high_return_rate
    """An expected return rate from here on calls for size and fit advice."""
    top_value_share: float = ActionSettings.top_value_share
    """Customers in this top share of lifetime value get a loyalty offer when their churn risk is low."""


@dg.asset(
    **area("recommend"),
    kinds={"duckdb", "csv", "parquet"},
    deps=["return_scoring_state", "recommendations", "campaign_targeting"],
)
def next_best_actions(
    config: NextBestActionsConfig, warehouse: Warehouse, artifacts: Artifacts
) -> dg.MaterializeResult:
    """One action per customer who has bought (no contact, size and fit advice, campaign offer, win-back
    offer, loyalty offer, recommend products) from the rule table of `docs/recommendations.md`, with the
    rule that decided it (`recommend.next_best_actions`); a CSV audience per action; and the lists and
    actions published, as one unit, for `GET /v1/customers/{id}/recommendations`."""
    from segmentation_pipeline.domain.recommend.actions import ACTION_COLUMNS, next_best_actions
    from segmentation_pipeline.serving.state import RECOMMENDATIONS_FOLDER, publish_state

    settings = ActionSettings(high_return_rate=config.high_return_rate, top_value_share=config.top_value_share)
    with warehouse.get_connection() as con:
        customers = con.sql(query("recommend/action_inputs")).df()
        shop_units, shop_returned = con.sql(
            f"SELECT shop_prior_units, shop_prior_returned_units FROM {catalog.SCORING_STATE['shop.parquet']}"
        ).fetchall()[0]
        actions = next_best_actions(customers, shop_returned / shop_units if shop_units else 0.0, settings)
        con.execute("BEGIN TRANSACTION").fetchall()
        write_frame(con, catalog.NEXT_BEST_ACTIONS, actions)
        con.execute(query("recommend/action_counts")).fetchall()
        con.execute("COMMIT").fetchall()
        audiences = {}
        for action in sorted(actions["action"].unique()):
            path = artifacts.export_path(f"{AUDIENCES}/{action.replace(' ', '_')}.csv")
            export_table(con, f"(FROM {catalog.NEXT_BEST_ACTIONS} WHERE action = '{action}')", path)
            audiences[action] = dg.MetadataValue.path(str(path))

        def write(folder: Path) -> None:
            export_table(con, catalog.RECOMMENDATIONS, folder / "recommendations.parquet")
            export_table(con, catalog.NEXT_BEST_ACTIONS, folder / "actions.parquet")

        model_version = artifacts.return_models().production_version()
        version = publish_state(Path(artifacts.serving_dir) / RECOMMENDATIONS_FOLDER, write, model_version)
        counts = con.sql(f"FROM {catalog.ACTION_COUNTS}").df()
        schema = table_schema(con, catalog.NEXT_BEST_ACTIONS, ACTION_COLUMNS)
    by_action = counts.pivot_table(index="action", columns="segment", values="customers", aggfunc="sum", fill_value=0)
    return dg.MaterializeResult(
        metadata={
            "dagster/row_count": len(actions),
            "dagster/column_schema": schema,
            "customers per action": dg.MetadataValue.json(actions["action"].value_counts().to_dict()),
            "customers per action and segment": dg.MetadataValue.md(frame_markdown(by_action)),
            "audiences": dg.MetadataValue.json({k: v.value for k, v in audiences.items()}),
            "published for the scoring service": version,
        }
    )
