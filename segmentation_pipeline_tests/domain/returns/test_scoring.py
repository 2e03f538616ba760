import numpy as np
import pandas as pd
import pytest

from segmentation_pipeline.domain.returns.features import FACT_COLUMNS, FEATURE_COLUMNS, build_features
from segmentation_pipeline.domain.returns.model import ReturnModel, strongest
from segmentation_pipeline.domain.returns.scoring import customer_profile, order_facts, score_orders
from segmentation_pipeline_tests.serving_fixtures import feature_frame, train_model

ORDER_TS = pd.Timestamp("2026-01-10 12:00")
CUSTOMER = {
    "customer_prior_orders": 4,
    "customer_prior_units": 10,
    "customer_prior_returned_units": 3,
    "customer_prior_lines": 6,
    "customer_prior_returns": 2,
    "first_seen_ts": pd.Timestamp("2025-12-31 00:00"),
    "last_order_ts": pd.Timestamp("2026-01-08 12:00"),
    "customer_prior_contacts": 1,
    "customer_segment": "VIP",
}
PRODUCTS = {
    "P1": {
        "category": "shoes",
        "product_prior_units": 100,
        "product_prior_returned_units": 20,
        "product_prior_lines": 40,
        "product_prior_returns": 6,
        "product_usual_price": 50,
    },
    "P2": {
        "category": "books",
        "product_prior_units": 10,
        "product_prior_returned_units": 1,
        "product_prior_lines": 5,
        "product_prior_returns": 1,
        "product_usual_price": 8,
    },
}
CATEGORIES = {
    "shoes": {"category_prior_units": 1000, "category_prior_returned_units": 300},
    "books": {"category_prior_units": 500, "category_prior_returned_units": 20},
}
SHOP = {
    "shop_prior_units": 10_000,
    "shop_prior_returned_units": 1_500,
    "shop_prior_lines": 4_000,
    "shop_prior_returns": 400,
    "observed_until": pd.Timestamp("2026-01-09"),
}
LINES = [
    {"product_id": "P1", "quantity": 1, "unit_price": 50.0},
    {"product_id": "P1", "quantity": 2, "unit_price": 45.0, "discount": 5.0, "category": "shoes"},
    {"product_id": "P2", "quantity": 3, "unit_price": 8.0, "category": "gifts"},
    {"product_id": "P9", "quantity": 1, "unit_price": 20.0},
]


def facts_of(customer):
    return order_facts(
        LINES, ORDER_TS, customer, PRODUCTS, CATEGORIES, SHOP, customer_id="C1", channel="web", country=None
    )


def test_order_facts_of_a_known_customer_by_hand():
    facts = facts_of(CUSTOMER)
    assert list(facts.columns) == list(FACT_COLUMNS)
    assert facts["line_no"].tolist() == [1, 2, 3, 4]
    assert facts["category"].tolist() == ["shoes", "shoes", "gifts", "unknown"]
    assert facts["channel"].tolist() == ["web"] * 4
    assert facts["country"].tolist() == ["unknown"] * 4
    assert facts["discount"].tolist() == [0.0, 5.0, 0.0, 0.0]
    assert facts["basket_lines"].tolist() == [4] * 4
    assert facts["basket_units"].tolist() == [7] * 4
    assert facts["basket_value"].tolist() == [184.0] * 4
    assert facts["same_product_lines"].tolist() == [2, 2, 1, 1]
    assert facts["same_category_lines"].tolist() == [2, 2, 1, 1]
    assert facts["customer_prior_orders"].tolist() == [4] * 4
    assert facts["customer_prior_returned_units"].tolist() == [3] * 4
    assert facts["customer_prior_lines"].tolist() == [6] * 4
    assert facts["customer_prior_returns"].tolist() == [2] * 4
    assert facts["customer_tenure_days"].tolist() == [10.5] * 4
    assert facts["customer_days_since_last_order"].tolist() == [2.0] * 4
    assert facts["customer_segment"].tolist() == ["VIP"] * 4
    assert facts["product_prior_units"].tolist() == [100, 100, 10, 0]
    assert facts["product_prior_returned_units"].tolist() == [20, 20, 1, 0]
    assert facts["product_prior_lines"].tolist() == [40, 40, 5, 0]
    assert facts["product_prior_returns"].tolist() == [6, 6, 1, 0]
    assert facts["product_usual_price"].tolist()[:3] == [50.0, 50.0, 8.0]
    assert np.isnan(facts["product_usual_price"].iloc[3])
    assert facts["category_prior_units"].tolist() == [1000, 1000, 0, 0]
    assert facts["category_prior_returned_units"].tolist() == [300, 300, 0, 0]
    assert facts["shop_prior_units"].tolist() == [10_000] * 4
    assert facts["shop_prior_returned_units"].tolist() == [1_500] * 4
    assert facts["shop_prior_lines"].tolist() == [4_000] * 4
    assert facts["shop_prior_returns"].tolist() == [400] * 4


def test_features_of_an_order_by_hand():
    features = build_features(facts_of(CUSTOMER))
    assert features["customer_return_share"].tolist() == pytest.approx([(2 + 5 * 0.1) / (6 + 5)] * 4)
    assert features["product_return_share"].tolist() == pytest.approx(
        [(6 + 20 * 0.1) / (40 + 20)] * 2 + [(1 + 20 * 0.1) / (5 + 20), 0.1]
    )
    assert features["orders_per_month"].tolist() == pytest.approx([4 / (10.5 / 30 + 1)] * 4)
    assert features["unit_price"].tolist() == [50.0, 45.0, 8.0, 20.0]
    assert features["value_share"].tolist() == pytest.approx([50 / 184, 90 / 184, 24 / 184, 20 / 184])
    free = build_features(facts_of(CUSTOMER).assign(basket_value=0.0))
    assert free["value_share"].tolist() == [0.0] * 4


def test_order_facts_of_an_unknown_customer_have_zero_counts_and_no_segment():
    facts = facts_of(None)
    assert facts["customer_prior_orders"].tolist() == [0] * 4
    assert facts["customer_prior_units"].tolist() == [0] * 4
    assert facts["customer_prior_lines"].tolist() == [0] * 4
    assert facts["customer_prior_returns"].tolist() == [0] * 4
    assert facts["customer_tenure_days"].tolist() == [0] * 4
    assert facts["customer_days_since_last_order"].isna().all()
    assert facts["customer_segment"].tolist() == ["none"] * 4
    features = build_features(facts)
    assert features["customer_days_since_last_order"].tolist() == [-1.0] * 4
    assert features["customer_return_rate"].tolist() == pytest.approx([0.15] * 4)
    assert features["customer_return_share"].tolist() == pytest.approx([0.1] * 4)
    assert features["orders_per_month"].tolist() == [0.0] * 4


class FixedModel:
    """Stands in for a ReturnModel with known probabilities and effects."""

    version = "v-test"

    def __init__(self, probabilities, effects):
        self.probabilities, self.effect_matrix = np.asarray(probabilities), np.asarray(effects)

    def effects(self, features):
        assert list(features.columns) == list(FEATURE_COLUMNS)
        return self.probabilities, self.effect_matrix


def test_score_orders_splits_a_batch_and_sums_line_effects_into_order_factors():
    names = list(FEATURE_COLUMNS)
    effects = np.zeros((5, len(names)))
    effects[:4, names.index("discount_share")] = [0.05, 0.05, 0.05, 0.05]
    effects[0, names.index("quantity")] = 0.15
    effects[1, names.index("product_return_rate")] = -0.12
    effects[2, names.index("product_return_rate")] = -0.12
    effects[4, names.index("unit_price")] = 0.3
    model = FixedModel([0.1, 0.4, 0.2, 0.3, 0.9], effects)
    first, second = score_orders(model, [facts_of(CUSTOMER), facts_of(None).iloc[[3]]], top=2)
    assert first.model_version == second.model_version == "v-test"
    assert [line.product_id for line in first.lines] == ["P1", "P1", "P2", "P9"]
    assert first.expected_returned_lines == pytest.approx(1.0)
    assert first.max_line_probability == pytest.approx(0.4)
    assert [name for name, _ in first.lines[0].top_factors] == ["quantity", "discount_share"]
    assert [name for name, _ in first.lines[1].top_factors] == ["product_return_rate", "discount_share"]
    assert first.top_factors == [
        ("product_return_rate", pytest.approx(-0.24)),
        ("discount_share", pytest.approx(0.2)),
    ]
    assert [line.product_id for line in second.lines] == ["P9"]
    assert second.expected_returned_lines == pytest.approx(0.9)
    assert second.top_factors[0] == ("unit_price", pytest.approx(0.3))


def test_effects_are_probability_moves_to_the_reference_value():
    model: ReturnModel = train_model("v1", rows=300)
    features, _ = feature_frame(4, seed=7)
    probabilities, effects = model.effects(features)
    assert probabilities == pytest.approx(model.predict(features))
    for j, name in enumerate(FEATURE_COLUMNS):
        moved = model.predict(features.assign(**{name: model.reference[name]}))
        assert effects[:, j] == pytest.approx(probabilities - moved)
    top = [strongest(row, 3) for row in effects]
    assert [[name for name, _ in line] for line in top] == [
        [list(FEATURE_COLUMNS)[j] for j in np.argsort(-np.abs(row), kind="stable")[:3]] for row in effects
    ]


def test_customer_profile_known_and_unknown():
    profile = customer_profile("C1", CUSTOMER | {"r_score": 5, "rfm_segment": "Champions"}, SHOP)
    assert profile["known"] is True
    assert profile["segment"] == "VIP"
    assert profile["rfm"]["r_score"] == 5 and profile["rfm"]["rfm_segment"] == "Champions"
    assert profile["rfm"]["f_score"] is None
    assert profile["expected_return_rate"] == pytest.approx((3 + 20 * 0.15) / (10 + 20))
    assert profile["prior_units"] == 10
    assert customer_profile("C1", CUSTOMER | {"expected_return_rate": 0.42}, SHOP)["expected_return_rate"] == 0.42
    unknown = customer_profile("C404", None, SHOP)
    assert unknown["known"] is False
    assert unknown["segment"] == "none"
    assert unknown["prior_orders"] == 0
    assert unknown["expected_return_rate"] == pytest.approx(0.15)
