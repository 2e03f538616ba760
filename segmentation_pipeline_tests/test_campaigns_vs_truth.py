"""Campaign lifts estimated through the warehouse SQL and the A/B statistics, against the generator's true
effect of each offer on each customer type."""

from datetime import date, timedelta

import numpy as np
import pandas as pd
import pytest

from segmentation_pipeline.domain.campaigns.statistics import rate_difference
from segmentation_pipeline.domain.contract import ATTRIBUTION_DAYS
from segmentation_pipeline.sources.synthetic import SyntheticSource
from segmentation_pipeline.sources.synthetic_shop import ShopSpec, generate_shop
from segmentation_pipeline.sql import catalog, query
from segmentation_pipeline.warehouse import Window, connect, replace_days
from segmentation_pipeline_tests.shop_files import build

SHOP = ShopSpec(n_customers=60_000, start=date(2024, 1, 1), days=365, seed=11, write_line_truth=False)


@pytest.fixture(scope="module")
def lifts_by_type(tmp_path_factory) -> pd.DataFrame:
    """Per campaign, variant and true customer type: the estimated conversion lift with its 95% interval,
    and the lift the generator implies."""
    folder = tmp_path_factory.mktemp("campaign_shop")
    generate_shop(SHOP, folder)
    window = Window(SHOP.start, SHOP.start + timedelta(days=SHOP.days))
    con = connect()
    build(con, SyntheticSource(folder, SHOP.n_customers, SHOP.seed, SHOP.start, SHOP.days), [window])
    replace_days(con, catalog.CUSTOMER_HISTORY, window, query("segments/customer_history"), {"attribution_days": 14})
    params = {"attribution_days": ATTRIBUTION_DAYS, "observed_until": window.end}
    exposures = con.execute(query("campaigns/exposures"), params).df()
    types = pd.read_parquet(folder / "ground_truth" / "customer_truth.parquet")[["customer_id", "latent_type"]]
    truth = pd.read_parquet(folder / "ground_truth" / "campaign_truth.parquet")
    rows = []
    closed = exposures[exposures["outcome_known"]].merge(types, on="customer_id")
    for (campaign, latent_type), group in closed.groupby(["campaign_id", "latent_type"]):
        control = group[group["is_control"]]
        for variant, offered in group[~group["is_control"]].groupby("variant"):
            effect = rate_difference(
                int(offered["converted"].sum()), len(offered), int(control["converted"].sum()), len(control)
            )
            true_rate = truth.set_index(["campaign_id", "variant", "latent_type"]).loc[
                (campaign, variant, latent_type), "true_conversion_rate"
            ]
            # an offer-caused purchase by a customer who converts anyway does not change conversion
            implied = true_rate * (1 - control["converted"].mean())
            rows.append({"estimate": effect.estimate, "low": effect.low, "high": effect.high, "implied": implied})
    return pd.DataFrame(rows)


def test_intervals_per_customer_type_cover_the_generators_effect(lifts_by_type):
    covered = (lifts_by_type["low"] <= lifts_by_type["implied"]) & (lifts_by_type["implied"] <= lifts_by_type["high"])
    assert len(lifts_by_type) >= 40
    assert covered.mean() >= 0.85  # 95% intervals: 87 of 90 cover here, 172 of 180 on the default shop


def test_estimated_effects_follow_the_true_effects_across_types(lifts_by_type):
    assert np.corrcoef(lifts_by_type["estimate"], lifts_by_type["implied"])[0, 1] > 0.5  # 0.62 here, 0.70 default
