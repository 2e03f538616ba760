"""Every customer's lifetime value, value net of expected returns and churn risk, scored daily with the
models in force."""

import pickle

import dagster as dg
from pydantic import Field

from segmentation_pipeline.defs.helpers import area, frame_markdown, table_schema, write_frame
from segmentation_pipeline.defs.resources import Artifacts, Warehouse
from segmentation_pipeline.domain.clv.settings import ChurnSettings, ClvSettings
from segmentation_pipeline.sql import catalog, query
from segmentation_pipeline.warehouse import export_table

EXPORT = "customer_value.csv"


class CustomerValueConfig(dg.Config):
    prediction_days: list[int] = Field(default_factory=lambda: list(ClvSettings.prediction_days))
    """Horizons in days of the expected purchases shown per customer."""
    horizon_months: int = ClvSettings.horizon_months
    """Months of future purchases lifetime value counts."""
    margin: float = ClvSettings.margin
    """Share of spend that is profit."""
    annual_discount_rate: float = ClvSettings.annual_discount_rate
    return_cost_share: float = ClvSettings.return_cost_share
    """Cost of handling a returned unit as a share of its price."""
    band_cutoffs: list[float] = Field(default_factory=lambda: list(ChurnSettings.band_cutoffs))
    """Churn probability at which Medium and High risk begin."""


@dg.asset(
    **area("clv"),
    kinds={"scipy", "duckdb", "csv"},
    deps=["clv_model", "churn_model", "customer_history", "customer_expected_return_rates", "customer_segments"],
)
def customer_value(config: CustomerValueConfig, warehouse: Warehouse, artifacts: Artifacts) -> dg.MaterializeResult:
    """Every customer's P(alive), expected purchases, expected spend, lifetime value, lifetime value net of
    expected returns (the return model's scores, else their history) and churn risk band on the latest day,
    with the models in force (`clv.customer_value`, exported as `customer_value.csv`); counts per segment
    and band."""
    from segmentation_pipeline.domain.clv.churn import ChurnModel
    from segmentation_pipeline.domain.clv.selection import models_in_force
    from segmentation_pipeline.domain.clv.value import customer_value_columns, score_customers

    with warehouse.get_connection() as con:
        in_force = models_in_force(con.sql(query("clv/params_in_force")).df())
        if in_force is None:
            return dg.MaterializeResult(metadata={"note": "no lifetime-value model fitted yet: nothing valued"})
        settings = ClvSettings(
            time_unit=in_force.time_unit,
            prediction_days=tuple(config.prediction_days),
            horizon_months=config.horizon_months,
            margin=config.margin,
            annual_discount_rate=config.annual_discount_rate,
            return_cost_share=config.return_cost_share,
        )
        latest = con.sql("SELECT covered_until('customer_history')").fetchall()[0][0]
        customers = con.execute(
            query("clv/customer_summary"), {"as_of": latest, "holdout_end": None, "unit_days": settings.unit_days}
        ).df()
        rates = con.sql(
            f"SELECT customer_id, expected_return_rate AS model_return_rate FROM {catalog.CUSTOMER_RETURN_RATES}"
        ).df()
        churn = con.sql(
            f"SELECT estimator, horizon_days FROM {catalog.CHURN_MODELS} ORDER BY trained_at DESC LIMIT 1"
        ).fetchall()
        metrics = con.sql(f"SELECT * FROM {catalog.CHURN_METRICS}").df() if churn else None
        model = ChurnModel(pickle.loads(churn[0][0]), metrics.set_index("scorer"), None) if churn else None
        values = score_customers(
            customers.merge(rates, on="customer_id", how="left"),
            in_force.purchase_model,
            in_force.purchase_params,
            in_force.spend_params,
            model,
            settings,
            ChurnSettings(
                horizon_days=int(churn[0][1]) if churn else ChurnSettings.horizon_days,
                band_cutoffs=tuple(config.band_cutoffs),
            ),
        ).assign(as_of_day=latest)
        write_frame(con, catalog.CUSTOMER_VALUE, values)
        write_frame(con, catalog.CHURN_BANDS_BY_SEGMENT, con.sql(query("clv/churn_bands_by_segment")).df())
        export_table(con, catalog.CUSTOMER_VALUE, artifacts.export_path(EXPORT))
        schema = table_schema(con, catalog.CUSTOMER_VALUE, customer_value_columns(settings.prediction_days))
        bands = con.sql(f"SELECT * FROM {catalog.CHURN_BANDS_BY_SEGMENT}").df()
        top = con.sql(f"SELECT * FROM {catalog.CUSTOMER_VALUE} ORDER BY net_clv DESC LIMIT 5").df()
    return dg.MaterializeResult(
        metadata={
            "dagster/row_count": len(values),
            "dagster/column_schema": schema,
            "as of": str(latest),
            "purchase model": in_force.purchase_model,
            "churn scores from": str(values["churn_source"].iloc[0]) if len(values) else "none",
            "churn horizon (days)": int(churn[0][1]) if churn else "no churn model",
            "total CLV": float(values["clv"].sum()),
            "total net CLV": float(values["net_clv"].sum()),
            "customers per segment and churn band": dg.MetadataValue.md(
                frame_markdown(bands.set_index("segment_name"), 2)
            ),
            "highest net CLV": dg.MetadataValue.md(frame_markdown(top.set_index("customer_id"), 2)),
            "export": dg.MetadataValue.path(str(artifacts.export_path(EXPORT))),
        }
    )
