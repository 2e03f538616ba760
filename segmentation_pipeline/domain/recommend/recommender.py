"""Recommendations end to end: choose the recommender's settings on a validation window, judge it
against popularity on a later window, then recommend today, ranked by expected kept value.

Three cut-offs, each seeing only the data before it: the *validation* cut-off (the split minus the
horizon), where the ridge penalty and popularity mix are chosen by NDCG@k on the purchases of the
next ``horizon_days``, and where the probability of purchase per candidate rank is measured; the
*split*, where the chosen recommender and the two baselines (global and segment popularity) are
judged on the next ``horizon_days``; and *today*. A candidate's expected kept value is its
probability of purchase x its usual price x (1 - the return model's probability that this customer
returns it); candidates above the return-risk threshold are dropped and the rest ranked by that value.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from segmentation_pipeline.domain.recommend.candidates import (
    Baskets,
    Candidates,
    ItemModel,
    because_you_bought,
    fit_item_model,
    popularity_candidates,
    score_customers,
)
from segmentation_pipeline.domain.recommend.evaluation import Outcomes, judge, purchase_probability_by_rank
from segmentation_pipeline.domain.recommend.settings import RecommendSettings
from segmentation_pipeline.domain.recommend.similarity import co_occurrence

ReturnRisk = Callable[[pd.DataFrame, pd.Timestamp], np.ndarray]
"""The return model's probability for hypothetical one-unit lines (customer_id, product_id) ordered at a time."""

LIST_COLUMNS = {
    "customer_id": "Customer the product is recommended to.",
    "rank": "Position in the customer's list, 1 first (by expected kept value).",
    "product_id": "Product recommended.",
    "price": "The product's usual unit price before the cut-off.",
    "purchase_probability": "Probability the customer buys it within the horizon, measured per candidate rank on the validation window.",
    "return_risk": "The return model's probability that this customer returns one unit of it.",
    "expected_kept_value": "purchase_probability x price x (1 - return_risk).",
    "source": "'similar products' when the customer's own baskets give most of its score, else 'popular in segment'.",
    "because_you_bought": "The customer's products that point to it most (comma-separated).",
    "similarity_share": "Share of its candidate score from the customer's own baskets (the rest: segment popularity).",
    "candidate_rank": "Its rank by candidate score, before the return-risk filter and the value ranking.",
}

MIN_BUYERS = 50
"""Customers who must buy in a window before it can choose settings or judge the recommender."""


@dataclass(frozen=True)
class Period:
    """What is known at a cut-off: purchases in the lookback (customer_id, product_id, recent), each
    customer's segment (customer_id, segment), usual prices (product_id -> price) and, for a past
    cut-off, the purchases of the window after it (customer_id, product_id, units, returned_units)."""

    cutoff: pd.Timestamp
    purchases: pd.DataFrame
    segments: pd.DataFrame
    prices: pd.Series
    outcomes: pd.DataFrame | None = None

    def baskets(self) -> Baskets:
        return Baskets.of(self.purchases, self.segments)


@dataclass(frozen=True)
class Recommendations:
    """Today's lists, and how the recommender was chosen and how it did."""

    lists: pd.DataFrame
    evaluation: pd.DataFrame
    """Per method on the split's window: hit rate, NDCG, coverage, return rate of recommended-and-bought."""
    selection: pd.DataFrame
    """Per (l2, mix) tried on the validation window: hit rate and NDCG."""
    rank_probability: np.ndarray
    """Probability of purchase per candidate rank (NaN when the validation window was too small)."""
    model: ItemModel
    dropped_for_risk: int


def _candidates_frame(
    candidates: Candidates, baskets: Baskets, prices: pd.Series, probability: np.ndarray
) -> pd.DataFrame:
    """Every candidate as a row: customer and product (codes and ids), rank, score, similarity share, usual
    price and the probability of purchase of its rank."""
    rows, ranks = np.nonzero(candidates.products >= 0)
    codes = candidates.products[rows, ranks]
    frame = pd.DataFrame(
        {
            "customer_code": rows,
            "product_code": codes,
            "customer_id": baskets.customers.to_numpy()[rows],
            "product_id": baskets.products.to_numpy()[codes],
            "candidate_rank": ranks + 1,
            "score": candidates.scores[rows, ranks],
            "similarity_share": np.divide(
                candidates.similarity[rows, ranks],
                candidates.scores[rows, ranks],
                out=np.zeros(len(rows)),
                where=candidates.scores[rows, ranks] > 0,
            ),
        }
    )
    frame["price"] = prices.reindex(frame["product_id"]).to_numpy(dtype=np.float64)
    frame["purchase_probability"] = probability[ranks] if np.isfinite(probability).all() else np.nan
    return frame


def rank_by_kept_value(frame: pd.DataFrame, settings: RecommendSettings) -> tuple[pd.DataFrame, int]:
    """Drop candidates whose return risk passes the threshold, rank the rest by expected kept value
    (probability of purchase, or the candidate score when none was measured, x price x (1 - return risk))
    and keep the top N per customer. Also returns how many candidates the risk threshold dropped."""
    risky = frame["return_risk"] > settings.max_return_risk
    kept = frame[~risky].copy()
    weight = kept["purchase_probability"].fillna(kept["score"])
    kept["expected_kept_value"] = weight * kept["price"].fillna(0.0) * (1.0 - kept["return_risk"].fillna(0.0))
    kept = kept.sort_values(["customer_code", "expected_kept_value", "candidate_rank"], ascending=[True, False, True])
    kept["rank"] = kept.groupby("customer_code").cumcount() + 1
    return kept[kept["rank"] <= settings.top_n].reset_index(drop=True), int(risky.sum())


def _choose(validation: Period, settings: RecommendSettings) -> tuple[pd.DataFrame, float, float, np.ndarray]:
    baskets = validation.baskets()
    outcomes = Outcomes.of(validation.outcomes, baskets.customers, baskets.products)
    buyers = outcomes.buyers()
    defaults = settings.l2_grid[len(settings.l2_grid) // 2], settings.mix_grid[len(settings.mix_grid) // 2]
    if len(buyers) < MIN_BUYERS:
        return pd.DataFrame(columns=["l2", "mix", "hit_rate", "ndcg"]), *defaults, np.full(settings.candidates, np.nan)
    gram = co_occurrence(baskets.matrix)
    rows, best = [], None
    for l2 in settings.l2_grid:
        fitted = fit_item_model(baskets, l2, 0.0, gram)
        for mix in settings.mix_grid:
            model = replace(fitted, mix=mix)
            judged = _score(model, baskets, buyers, settings)
            quality = judge(judged.products, outcomes, buyers, settings.top_n)
            rows.append({"l2": l2, "mix": mix, "hit_rate": quality["hit_rate"], "ndcg": quality["ndcg"]})
            if best is None or quality["ndcg"] > best[0]:
                best = (quality["ndcg"], l2, mix, judged)
    _, l2, mix, judged = best
    return pd.DataFrame(rows), l2, mix, purchase_probability_by_rank(judged.products, outcomes, buyers)


def _score(model: ItemModel, baskets: Baskets, customers: np.ndarray, settings: RecommendSettings) -> Candidates:
    return score_customers(model, baskets.rows(customers), settings.candidates, settings.chunk_customers)


def _evaluate(
    test: Period, l2: float, mix: float, probability: np.ndarray, return_risk: ReturnRisk, settings: RecommendSettings
) -> pd.DataFrame:
    baskets = test.baskets()
    outcomes = Outcomes.of(test.outcomes, baskets.customers, baskets.products)
    buyers = outcomes.buyers()
    if len(buyers) < MIN_BUYERS:
        return pd.DataFrame(columns=["method", "customers", "hit_rate", "ndcg", "coverage", "return_rate"])
    model = fit_item_model(baskets, l2, mix)
    buyer_baskets = baskets.rows(buyers)
    candidates = score_customers(model, buyer_baskets, settings.candidates, settings.chunk_customers)
    frame = _candidates_frame(candidates, buyer_baskets, test.prices, probability)
    frame["return_risk"] = return_risk(frame[["customer_id", "product_id"]], test.cutoff)
    ranked, _ = rank_by_kept_value(frame, settings)
    methods = {
        "global popularity": popularity_candidates(baskets.global_popularity(), buyer_baskets, settings.top_n).products,
        "segment popularity": popularity_candidates(
            model.popularity_of(buyer_baskets), buyer_baskets, settings.top_n
        ).products,
        "recommender, by purchase probability": candidates.products,
        "recommender, by expected kept value": _lists(ranked, len(buyers), settings.top_n),
    }
    return pd.DataFrame(
        [{"method": name, **judge(top, outcomes, buyers, settings.top_n)} for name, top in methods.items()]
    )


def _lists(ranked: pd.DataFrame, customers: int, k: int) -> np.ndarray:
    """Ranked rows (customer_code, rank, product_code) as customers x k product codes, -1 where empty."""
    top = np.full((customers, k), -1, dtype=np.int64)
    top[ranked["customer_code"].to_numpy(), ranked["rank"].to_numpy() - 1] = ranked["product_code"].to_numpy()
    return top


def lists_today(
    model: ItemModel,
    probability: np.ndarray,
    today: Period,
    return_risk: ReturnRisk,
    settings: RecommendSettings,
    customers: pd.Index | None = None,
) -> tuple[pd.DataFrame, int]:
    """Today's top N per customer with the model in force (of ``customers`` only, when given), with
    their reasons; and how many candidates the return-risk threshold dropped."""
    baskets = Baskets.of(today.purchases, today.segments, model.products)
    if customers is not None:
        baskets = baskets.rows(np.flatnonzero(baskets.customers.isin(customers)))
    candidates = score_customers(model, baskets, settings.candidates, settings.chunk_customers)
    frame = _candidates_frame(candidates, baskets, today.prices, probability)
    frame["return_risk"] = return_risk(frame[["customer_id", "product_id"]], today.cutoff)
    ranked, dropped = rank_by_kept_value(frame, settings)
    ranked["because_you_bought"] = because_you_bought(
        model, baskets, ranked["customer_code"].to_numpy(), ranked["product_code"].to_numpy()
    )
    ranked["source"] = np.where(ranked["similarity_share"] >= 0.5, "similar products", "popular in segment")
    return ranked[list(LIST_COLUMNS)], dropped


def recommend(
    validation: Period, test: Period, today: Period, return_risk: ReturnRisk, settings: RecommendSettings
) -> Recommendations:
    """Choose on ``validation``, judge on ``test``, recommend at ``today`` (see the module docstring)."""
    selection, l2, mix, probability = _choose(validation, settings)
    evaluation = _evaluate(test, l2, mix, probability, return_risk, settings)
    model = fit_item_model(today.baskets(), l2, mix)
    lists, dropped = lists_today(model, probability, today, return_risk, settings)
    return Recommendations(lists, evaluation, selection, probability, model, dropped)
