"""Audience CSVs for marketing automation: customers with their scores, per segment, churn band and campaign
uplift decile."""

from pathlib import Path

import dagster as dg

from segmentation_pipeline.defs.helpers import area, table_schema
from segmentation_pipeline.defs.resources import Artifacts, Warehouse
from segmentation_pipeline.domain.marts.columns import AUDIENCE_COLUMNS, UPLIFT_AUDIENCE_COLUMNS, descriptions
from segmentation_pipeline.sql import catalog, query
from segmentation_pipeline.warehouse import export_table, run_in_transaction

AUDIENCES = "audiences"
KINDS = ("segment", "churn_band", "uplift_decile")
"""Audience folders under `audiences/`, one CSV per audience."""


@dg.asset(**area("marts"), kinds={"duckdb", "csv"}, deps=["mart_customers", "campaign_targeting"])
def audience_exports(warehouse: Warehouse, artifacts: Artifacts) -> dg.MaterializeResult:
    """CSV audiences of customers with their scores (segment, churn band and probability, lifetime value gross
    and net, expected return rate, next best action) for marketing automation: one per segment
    (`audiences/segment/<segment>.csv`), per churn band (`audiences/churn_band/<band>.csv`) and per campaign
    decile of predicted uplift among today's customers for the latest campaign sent
    (`audiences/uplift_decile/<campaign>_d<NN>.csv`, from `campaigns.uplift_deciles`). Audiences that no longer
    exist are removed."""
    written: dict[str, int] = {}
    with warehouse.get_connection() as con:
        if not con.execute(
            "SELECT count(*) FROM duckdb_tables() WHERE schema_name || '.' || table_name = $table",
            {"table": catalog.MART_CUSTOMERS},
        ).fetchall()[0][0]:
            return dg.MaterializeResult(metadata={"note": f"nothing exported: {catalog.MART_CUSTOMERS} not built yet"})
        run_in_transaction(con, query("marts/audience_members"), {})
        audiences = con.sql(
            "SELECT audience_no, kind, audience, count(*) FROM audience_members GROUP BY ALL ORDER BY audience_no"
        ).fetchall()
        for number, kind, audience, members in audiences:
            columns = UPLIFT_AUDIENCE_COLUMNS if kind == "uplift_decile" else AUDIENCE_COLUMNS
            relation = (
                f"(SELECT {', '.join(columns)} FROM audience_members WHERE audience_no = {number} ORDER BY customer_id)"
            )
            export_table(con, relation, artifacts.export_path(f"{AUDIENCES}/{kind}/{audience}.csv"))
            written[f"{kind}/{audience}.csv"] = members
        schema = table_schema(
            con,
            f"(SELECT {', '.join(UPLIFT_AUDIENCE_COLUMNS)} FROM audience_members)",
            descriptions(UPLIFT_AUDIENCE_COLUMNS),
        )
    removed = remove_stale(Path(artifacts.export_path(AUDIENCES)), set(written))
    return dg.MaterializeResult(
        metadata={
            "dagster/row_count": sum(written.values()),
            "dagster/column_schema": schema,
            "customers per audience": dg.MetadataValue.json(written),
            "audiences removed (no longer exist)": dg.MetadataValue.json(removed),
            "folder": dg.MetadataValue.path(str(artifacts.export_path(AUDIENCES))),
            **({"note": "no audience: no customer has ordered yet"} if not written else {}),
        }
    )


def remove_stale(folder: Path, written: set[str]) -> list[str]:
    """Delete the audience CSVs of the folders this asset writes that this run did not write; their names."""
    stale = sorted(
        str(path.relative_to(folder))
        for kind in KINDS
        for path in (folder / kind).glob("*.csv")
        if str(path.relative_to(folder)) not in written
    )
    for name in stale:
        (folder / name).unlink()
    return stale
