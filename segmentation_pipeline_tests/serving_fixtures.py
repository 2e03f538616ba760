"""A tiny trained return model and a generated scoring state, for the scoring service tests.

The model is trained here on a generated feature frame, not by the pipeline: the tests only
need a real fitted scikit-learn model the service can load, score and explain.
"""

from __future__ import annotations

from functools import partial
from pathlib import Path

import numpy as np
import pandas as pd

from segmentation_pipeline.domain.returns.features import CATEGORICAL_FEATURES, FEATURE_COLUMNS
from segmentation_pipeline.domain.returns.model import ReturnModel
from segmentation_pipeline.domain.returns.registry import ModelRegistry
from segmentation_pipeline.serving.state import RECOMMENDATIONS_FOLDER, current_state, publish_state

CATEGORIES = ("shoes", "dresses", "books", "home", "toys")
SEGMENTS = ("VIP", "Regulars", "Serial Returners", "New")


def feature_frame(rows: int, seed: int) -> tuple[pd.DataFrame, np.ndarray]:
    """Random features and labels where returns follow the customer and product rates and discounts."""
    rng = np.random.default_rng(seed)
    numeric = [name for name in FEATURE_COLUMNS if name not in CATEGORICAL_FEATURES]
    frame = pd.DataFrame({name: rng.gamma(2.0, 2.0, rows) for name in numeric})
    for name in (
        "customer_return_rate",
        "customer_return_share",
        "product_return_rate",
        "product_return_share",
        "category_return_rate",
        "discount_share",
        "value_share",
    ):
        frame[name] = rng.beta(2, 6, rows)
    frame["category"] = rng.choice(CATEGORIES, rows)
    frame["channel"] = rng.choice(["web", "app"], rows)
    frame["country"] = rng.choice(["DE", "FR"], rows)
    frame["customer_segment"] = rng.choice([*SEGMENTS, "none"], rows)
    logit = -2 + 4 * frame["customer_return_rate"] + 3 * frame["product_return_rate"] + 2 * frame["discount_share"]
    labels = (rng.random(rows) < 1 / (1 + np.exp(-logit))).astype(int)
    return frame[list(FEATURE_COLUMNS)], labels


def train_model(version: str, seed: int = 0, rows: int = 600) -> ReturnModel:
    """A small calibrated gradient-boosting return model on generated features."""
    from sklearn.isotonic import IsotonicRegression

    from segmentation_pipeline.domain.returns.settings import ReturnTrainingSettings
    from segmentation_pipeline.domain.returns.training import candidate_pipeline, reference_values

    features, labels = feature_frame(rows, seed)
    settings = ReturnTrainingSettings(seed=seed, boosting_max_iter=30, category_min_lines=1)
    half = rows // 2
    pipeline = candidate_pipeline("hist_gradient_boosting", settings).fit(features.iloc[:half], labels[:half])
    scores = pipeline.predict_proba(features.iloc[half:])[:, 1]
    calibrator = IsotonicRegression(out_of_bounds="clip", y_min=0, y_max=1).fit(scores, labels[half:])
    reference = reference_values(features)
    card = {"version": version, "features": list(FEATURE_COLUMNS), "metrics": {"train_rows": rows}}
    return ReturnModel(version, "hist_gradient_boosting", pipeline, calibrator, reference, card)


def publish(root: Path, model: ReturnModel) -> None:
    """Save a model version in the registry at ``root`` and make it the production one."""
    registry = ModelRegistry(root)
    registry.save(model)
    registry.promote(model.version)


def write_state(
    serving_dir: Path, customers: int = 50, products: int = 20, seed: int = 0, model_version: str | None = None
) -> Path:
    """Publish a scoring state of ``customers`` customers C00000.. and ``products`` products P0000..
    in ``serving_dir``, with ``model_version`` (None: the registry's production model); returns its folder."""
    publish_state(serving_dir, partial(state_files, customers=customers, products=products, seed=seed), model_version)
    return current_state(serving_dir)


def state_files(folder: Path, customers: int, products: int, seed: int) -> None:
    """The files of a generated scoring state, written into ``folder``."""
    rng = np.random.default_rng(seed)
    observed_until = pd.Timestamp("2025-12-31 23:59:59")
    first_seen = observed_until - pd.to_timedelta(rng.integers(1, 700, customers), unit="D")
    units = rng.integers(1, 60, customers)
    returned = (units * rng.beta(2, 6, customers)).astype(int)
    clv, churn = rng.gamma(2.0, 50.0, customers), rng.uniform(0, 1, customers)
    lines = rng.integers(1, units + 1)
    pd.DataFrame(
        {
            "customer_id": [f"C{i:05d}" for i in range(customers)],
            "customer_prior_orders": rng.integers(1, 20, customers),
            "customer_prior_units": units,
            "customer_prior_returned_units": returned,
            "customer_prior_lines": lines,
            "customer_prior_returns": (lines * rng.beta(2, 6, customers)).astype(int),
            "first_seen_ts": first_seen,
            "last_order_ts": first_seen + (observed_until - first_seen) * rng.random(customers),
            "customer_prior_contacts": rng.integers(0, 5, customers),
            "customer_segment": rng.choice(SEGMENTS, customers),
            "segment_id": rng.integers(0, len(SEGMENTS), customers),
            "r_score": rng.integers(1, 6, customers),
            "f_score": rng.integers(1, 6, customers),
            "m_score": rng.integers(1, 6, customers),
            "rfm_segment": rng.choice(["Champions", "Loyal", "At Risk"], customers),
            "recency_days": rng.integers(0, 200, customers).astype(float),
            "frequency": rng.integers(1, 20, customers),
            "monetary_net": rng.gamma(2.0, 100.0, customers),
            "p_alive": rng.uniform(0, 1, customers),
            "clv": clv,
            "net_clv": clv * rng.uniform(0.5, 1.0, customers),
            "churn_probability": churn,
            "churn_band": np.where(churn < 0.3, "Low", np.where(churn < 0.6, "Medium", "High")),
        }
    ).to_parquet(folder / "customers.parquet")
    sold = rng.integers(0, 5000, products)
    product_lines = rng.integers(0, sold + 1)
    pd.DataFrame(
        {
            "product_id": [f"P{i:04d}" for i in range(products)],
            "category": rng.choice(CATEGORIES, products),
            "product_prior_units": sold,
            "product_prior_returned_units": (sold * rng.beta(2, 6, products)).astype(int),
            "product_prior_lines": product_lines,
            "product_prior_returns": (product_lines * rng.beta(2, 6, products)).astype(int),
            "product_usual_price": rng.gamma(2.0, 15.0, products),
        }
    ).to_parquet(folder / "products.parquet")
    pd.DataFrame(
        {
            "category": list(CATEGORIES),
            "category_prior_units": rng.integers(10_000, 50_000, len(CATEGORIES)),
            "category_prior_returned_units": rng.integers(1_000, 8_000, len(CATEGORIES)),
        }
    ).to_parquet(folder / "categories.parquet")
    pd.DataFrame(
        {
            "shop_prior_units": [200_000],
            "shop_prior_returned_units": [30_000],
            "shop_prior_lines": [80_000],
            "shop_prior_returns": [9_000],
            "observed_until": [observed_until],
        }
    ).to_parquet(folder / "shop.parquet")


def write_recommendations(serving_dir: Path, customers: int = 5, top_n: int = 3) -> Path:
    """Publish recommendation lists (``top_n`` products each) and next best actions for ``customers``
    customers C00000..; returns the folder."""

    def files(folder: Path) -> None:
        ids = [f"C{i:05d}" for i in range(customers)]
        pd.DataFrame(
            {
                "customer_id": np.repeat(ids, top_n),
                "rank": np.tile(np.arange(1, top_n + 1), customers),
                "product_id": [f"P{(i + r) % 20:04d}" for i in range(customers) for r in range(top_n)],
                "price": 10.0,
                "purchase_probability": np.tile(np.linspace(0.3, 0.1, top_n), customers),
                "return_risk": 0.2,
                "expected_kept_value": np.tile(np.linspace(2.4, 0.8, top_n), customers),
                "source": "similar products",
                "because_you_bought": "P0001, P0002",
                "similarity_share": 0.8,
                "candidate_rank": np.tile(np.arange(1, top_n + 1), customers),
            }
        ).sample(frac=1.0, random_state=0).to_parquet(folder / "recommendations.parquet")
        pd.DataFrame(
            {
                "customer_id": ids,
                "action": "recommend products",
                "rule": "6. has a recommendation list",
                "campaign_id": None,
                "top_product": [f"P{i % 20:04d}" for i in range(customers)],
            }
        ).to_parquet(folder / "actions.parquet")

    folder = serving_dir / RECOMMENDATIONS_FOLDER
    publish_state(folder, files, None)
    return current_state(folder)
