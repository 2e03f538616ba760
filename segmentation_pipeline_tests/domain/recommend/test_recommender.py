"""Ranking by expected kept value, the return-risk threshold, and the recommender against popularity."""

import numpy as np
import pandas as pd
import pytest

from segmentation_pipeline.domain.recommend.recommender import rank_by_kept_value, recommend
from segmentation_pipeline.domain.recommend.settings import RecommendSettings
from segmentation_pipeline_tests.domain.recommend.shops import period, styled_shop

SETTINGS = RecommendSettings(top_n=2, max_return_risk=0.5)


def candidates(**columns) -> pd.DataFrame:
    frame = pd.DataFrame(columns)
    return frame.assign(customer_code=0, candidate_rank=np.arange(1, len(frame) + 1), score=0.1)


def test_a_product_above_the_return_risk_threshold_is_left_out():
    frame = candidates(
        product_code=[0, 1, 2], purchase_probability=[0.3, 0.2, 0.1], price=[10.0, 10.0, 10.0],
        return_risk=[0.9, 0.2, 0.5],
    )  # fmt: skip
    ranked, dropped = rank_by_kept_value(frame, SETTINGS)
    assert ranked["product_code"].tolist() == [1, 2] and dropped == 1


def test_products_are_ranked_by_probability_times_price_times_the_chance_of_keeping_them():
    frame = candidates(
        product_code=[0, 1, 2], purchase_probability=[0.3, 0.1, 0.2], price=[10.0, 40.0, 30.0],
        return_risk=[0.0, 0.4, 0.1],
    )  # fmt: skip
    ranked, _ = rank_by_kept_value(frame, SETTINGS)
    # kept values: 3.0, 2.4, 5.4
    assert ranked["product_code"].tolist() == [2, 0]
    assert ranked["expected_kept_value"].tolist() == pytest.approx([5.4, 3.0])
    assert ranked["rank"].tolist() == [1, 2]


def no_risk(pairs: pd.DataFrame, cutoff: pd.Timestamp) -> np.ndarray:
    return np.zeros(len(pairs))


@pytest.fixture(scope="module")
def styled():
    validation, test = styled_shop(seed=1), styled_shop(seed=2)
    today = styled_shop(seed=3)
    return recommend(
        period(validation, "2025-01-01"), period(test, "2025-02-01"), period(today, "2025-03-01", judged=False),
        no_risk, RecommendSettings(),
    )  # fmt: skip


def test_on_baskets_with_a_structure_the_recommender_beats_both_popularity_baselines(styled):
    evaluation = styled.evaluation.set_index("method")
    mine = evaluation.loc["recommender, by purchase probability"]
    for baseline in ("global popularity", "segment popularity"):
        assert mine["hit_rate"] > evaluation.loc[baseline, "hit_rate"] + 0.1
        assert mine["ndcg"] > evaluation.loc[baseline, "ndcg"] + 0.05
    assert mine["coverage"] > evaluation.loc["segment popularity", "coverage"]


def test_the_settings_are_chosen_on_the_validation_window_by_ndcg(styled):
    best = styled.selection.loc[styled.selection["ndcg"].idxmax()]
    assert (styled.model.l2, styled.model.mix) == (best["l2"], best["mix"])
    assert len(styled.selection) == len(RecommendSettings().l2_grid) * len(RecommendSettings().mix_grid)


def test_every_customer_gets_a_full_list_with_reasons_and_never_a_recent_purchase(styled):
    lists = styled.lists
    today = styled_shop(seed=3)["purchases"]
    assert lists.groupby("customer_id").size().eq(RecommendSettings().top_n).all()
    recent = set(map(tuple, today.loc[today["recent"], ["customer_id", "product_id"]].to_numpy()))
    assert not recent & set(map(tuple, lists[["customer_id", "product_id"]].to_numpy()))
    similar = lists[lists["source"] == "similar products"]
    assert len(similar) and (similar["because_you_bought"] != "").all()
    assert (lists["purchase_probability"] > 0).all()
