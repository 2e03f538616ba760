"""Products each customer is likely to buy next: their own basket through the item-to-item weights,
plus their segment's popularity, which is all a customer with no history gets.

A customer's similarity score of a product is the sum of the weights from the products in their
basket history, kept where positive and scaled to sum to 1 over the catalogue. The segment's
popularity is the share of the segment's customers who bought the product, also summed to 1.
The candidate score is similarity + ``mix`` x popularity, and popularity alone for a customer whose
basket points nowhere (no purchase in the lookback); products bought within the exclusion window are
never candidates.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import scipy.sparse as sp

from segmentation_pipeline.domain.recommend.similarity import basket_matrix, co_occurrence, item_weights

NO_SEGMENT = "none"


@dataclass(frozen=True)
class Baskets:
    """Who bought what before a cut-off, coded for matrices."""

    customers: pd.Index
    products: pd.Index
    matrix: sp.csr_matrix
    """Customers x products: bought in the lookback window."""
    recent: sp.csr_matrix
    """Customers x products: bought within the exclusion window (never recommended)."""
    segment_codes: np.ndarray
    """Per customer, the index of their segment in ``segments``."""
    segments: tuple[str, ...]

    @classmethod
    def of(cls, purchases: pd.DataFrame, segments: pd.DataFrame, products: pd.Index | None = None) -> Baskets:
        """From ``purchases`` (customer_id, product_id, recent: bought within the exclusion window) and
        ``segments`` (customer_id, segment). ``products`` fixes the catalogue (default: those bought)."""
        products = pd.Index(sorted(purchases["product_id"].unique())) if products is None else products
        purchases = purchases[products.get_indexer(purchases["product_id"]) >= 0]
        customers = pd.Index(sorted(set(purchases["customer_id"]) | set(segments["customer_id"])))
        shape = (len(customers), len(products))
        rows = customers.get_indexer(purchases["customer_id"])
        columns = products.get_indexer(purchases["product_id"])
        recent = purchases["recent"].to_numpy(dtype=bool)
        segment_of = segments.set_index("customer_id")["segment"].reindex(customers).fillna(NO_SEGMENT)
        names, codes = np.unique(segment_of.astype(str).to_numpy(), return_inverse=True)
        return cls(
            customers=customers,
            products=products,
            matrix=basket_matrix(rows, columns, shape),
            recent=basket_matrix(rows[recent], columns[recent], shape),
            segment_codes=codes,
            segments=tuple(names),
        )

    def rows(self, codes: np.ndarray) -> Baskets:
        """The baskets of the customers at ``codes`` only."""
        return Baskets(
            self.customers[codes],
            self.products,
            self.matrix[codes],
            self.recent[codes],
            self.segment_codes[codes],
            self.segments,
        )

    def segment_popularity(self) -> np.ndarray:
        """Segments x products: share of each segment's purchases (customers who bought) per product."""
        membership = sp.csr_matrix(
            (np.ones(len(self.customers)), (self.segment_codes, np.arange(len(self.customers)))),
            shape=(len(self.segments), len(self.customers)),
        )
        counts = np.asarray((membership @ self.matrix).todense(), dtype=np.float64)
        return _shares(counts)

    def global_popularity(self) -> np.ndarray:
        """Per product, share of all customers' purchases."""
        return _shares(np.asarray(self.matrix.sum(axis=0), dtype=np.float64))[0]


def _shares(counts: np.ndarray) -> np.ndarray:
    counts = np.atleast_2d(counts)
    totals = counts.sum(axis=1, keepdims=True)
    return np.divide(counts, totals, out=np.zeros_like(counts), where=totals > 0)


@dataclass(frozen=True)
class ItemModel:
    """Item-to-item weights and segment popularity over one catalogue, fitted on baskets before a cut-off."""

    products: pd.Index
    weights: np.ndarray
    segments: tuple[str, ...]
    popularity: np.ndarray
    """Segments x products, as ``Baskets.segment_popularity``."""
    mix: float
    l2: float

    def popularity_rows(self, baskets: Baskets) -> tuple[np.ndarray, np.ndarray]:
        """Popularity rows (one per known segment, then the shop-wide one) and, per customer of ``baskets``,
        the index of their row: a segment unseen at fitting gets the shop-wide popularity."""
        shop = self.popularity.sum(axis=0)
        shop = shop / shop.sum() if shop.sum() > 0 else shop
        known = {name: i for i, name in enumerate(self.segments)}
        lookup = np.array([known.get(name, len(self.segments)) for name in baskets.segments], dtype=np.int64)
        return np.vstack([self.popularity, shop]), lookup[baskets.segment_codes]

    def popularity_of(self, baskets: Baskets) -> np.ndarray:
        """Each customer's segment's popularity row (customers x products: for a few customers only)."""
        rows, row_of = self.popularity_rows(baskets)
        return rows[row_of]


def fit_item_model(baskets: Baskets, l2: float, mix: float, gram: np.ndarray | None = None) -> ItemModel:
    """Weights and popularity from ``baskets`` (``gram``: their co-occurrence, when already counted)."""
    gram = co_occurrence(baskets.matrix) if gram is None else gram
    return ItemModel(baskets.products, item_weights(gram, l2), baskets.segments, baskets.segment_popularity(), mix, l2)


@dataclass(frozen=True)
class Candidates:
    """Each customer's top products by candidate score, best first."""

    customers: pd.Index
    products: np.ndarray
    """Customers x k: product codes (into the model's catalogue), -1 where fewer were left."""
    scores: np.ndarray
    similarity: np.ndarray
    """The similarity part of each score (the rest is the segment's popularity)."""


def score_customers(model: ItemModel, baskets: Baskets, k: int, chunk: int = 5_000) -> Candidates:
    """The ``k`` best candidates of every customer in ``baskets`` (which must share the model's catalogue)."""
    if not baskets.products.equals(model.products):
        raise ValueError("baskets and model must share one catalogue")
    n, width = len(baskets.customers), min(k, len(model.products))
    products = np.full((n, width), -1, dtype=np.int64)
    scores = np.zeros((n, width))
    similarity = np.zeros((n, width))
    popularity, row_of = model.popularity_rows(baskets)
    popularity = popularity.astype(np.float32)
    for start in range(0, n, chunk):
        stop = min(start + chunk, n)
        personal = np.clip(np.asarray(baskets.matrix[start:stop] @ model.weights), 0.0, None)
        totals = personal.sum(axis=1, keepdims=True)
        personal = np.divide(personal, totals, out=np.zeros_like(personal), where=totals > 0)
        total = personal + np.where(totals > 0, model.mix, 1.0).astype(np.float32) * popularity[row_of[start:stop]]
        total[baskets.recent[start:stop].toarray() > 0] = -np.inf
        best = np.argpartition(-total, width - 1, axis=1)[:, :width]
        order = np.argsort(-np.take_along_axis(total, best, axis=1), axis=1, kind="stable")
        best = np.take_along_axis(best, order, axis=1)
        chosen = np.take_along_axis(total, best, axis=1)
        products[start:stop] = np.where(np.isfinite(chosen) & (chosen > 0), best, -1)
        scores[start:stop] = np.where(products[start:stop] >= 0, chosen, 0.0)
        similarity[start:stop] = np.where(products[start:stop] >= 0, np.take_along_axis(personal, best, axis=1), 0.0)
    return Candidates(baskets.customers, products, scores, similarity)


def popularity_candidates(popularity: np.ndarray, baskets: Baskets, k: int) -> Candidates:
    """The baselines: every customer gets the most popular products of ``popularity`` (customers x
    products, or one row for all) they did not buy within the exclusion window."""
    rows = np.broadcast_to(np.atleast_2d(popularity), (len(baskets.customers), len(baskets.products))).copy()
    rows[baskets.recent.toarray() > 0] = -np.inf
    width = min(k, rows.shape[1])
    best = np.argsort(-rows, axis=1, kind="stable")[:, :width]
    chosen = np.take_along_axis(rows, best, axis=1)
    products = np.where(np.isfinite(chosen) & (chosen > 0), best, -1)
    return Candidates(baskets.customers, products, np.where(products >= 0, chosen, 0.0), np.zeros(products.shape))


def because_you_bought(
    model: ItemModel, baskets: Baskets, customers: np.ndarray, products: np.ndarray, top: int = 3, chunk: int = 500_000
) -> list[str]:
    """Per (customer, product) pair (codes into ``baskets``), the products of the customer's basket
    that pushed the product up most, comma-separated (positive weights only; '' when none did)."""
    reasons: list[str] = []
    for start in range(0, len(customers), chunk):
        reasons += _reasons(model, baskets, customers[start : start + chunk], products[start : start + chunk], top)
    return reasons


def _reasons(model: ItemModel, baskets: Baskets, customers: np.ndarray, products: np.ndarray, top: int) -> list[str]:
    indptr, indices = baskets.matrix.indptr, baskets.matrix.indices
    sizes = indptr[customers + 1] - indptr[customers]
    pair = np.repeat(np.arange(len(customers), dtype=np.int32), sizes)
    offsets = np.arange(sizes.sum()) - np.repeat(np.cumsum(sizes) - sizes, sizes)
    bought = indices[np.repeat(indptr[customers], sizes) + offsets]
    weight = model.weights[bought, np.repeat(products, sizes)]
    keep = weight > 0
    pair, bought, weight = pair[keep], bought[keep], weight[keep]
    order = np.lexsort((-weight, pair))
    pair, bought = pair[order], bought[order]
    rank = np.arange(len(pair)) - np.searchsorted(pair, pair)
    keep = rank < top
    named = np.full((len(customers), top), "", dtype=object)
    named[pair[keep], rank[keep]] = model.products.to_numpy().astype(str)[bought[keep]]
    joined = named[:, 0]
    for column in named[:, 1:].T:
        joined = np.where(column != "", joined + ", " + column, joined)
    return joined.tolist()
