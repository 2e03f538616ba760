"""Small shops with a known structure for the recommender's tests."""

from __future__ import annotations

import numpy as np
import pandas as pd

from segmentation_pipeline.domain.recommend.recommender import Period

STYLES, PER_STYLE = 3, 20


def product(code: int) -> str:
    return f"P{code:03d}"


def styled_shop(customers: int = 900, seed: int = 0) -> dict[str, pd.DataFrame]:
    """Customers who keep to one style of 20 products, plus a few shop-wide best sellers; their segments
    say nothing about their style. Returns purchases before a cut-off (with `recent` for the last of
    them) and the purchases of the window after it."""
    rng = np.random.default_rng(seed)
    style = rng.integers(STYLES, size=customers)
    best_sellers = np.arange(STYLES * PER_STYLE, STYLES * PER_STYLE + 5)
    taste = np.exp(rng.normal(0, 1, PER_STYLE))
    taste /= taste.sum()
    rows, window = [], []
    for customer in range(customers):
        mine = style[customer] * PER_STYLE + rng.choice(PER_STYLE, 5, replace=False, p=taste)
        for i, code in enumerate(mine[:3]):
            rows.append((f"C{customer:04d}", product(code), i == 2))
        rows.append((f"C{customer:04d}", product(rng.choice(best_sellers)), False))
        for code in mine[3:]:
            window.append((f"C{customer:04d}", product(code), 1, 0))
        if rng.random() < 0.5:
            window.append((f"C{customer:04d}", product(rng.choice(best_sellers)), 1, 0))
    purchases = pd.DataFrame(rows, columns=["customer_id", "product_id", "recent"])
    purchases = purchases.drop_duplicates(["customer_id", "product_id"])
    segments = pd.DataFrame(
        {"customer_id": [f"C{c:04d}" for c in range(customers)], "segment": rng.choice(["North", "South"], customers)}
    )
    outcomes = pd.DataFrame(window, columns=["customer_id", "product_id", "units", "returned_units"])
    return {"purchases": purchases, "segments": segments, "outcomes": outcomes}


def period(shop: dict[str, pd.DataFrame], cutoff: str, judged: bool = True) -> Period:
    codes = sorted(set(shop["purchases"]["product_id"]) | set(shop["outcomes"]["product_id"]))
    prices = pd.Series(10.0 + np.arange(len(codes)), index=codes)
    return Period(
        pd.Timestamp(cutoff), shop["purchases"], shop["segments"], prices, shop["outcomes"] if judged else None
    )
