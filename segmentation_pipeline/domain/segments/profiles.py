"""What each segment looks like: size, revenue, behaviour against all customers, top categories."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np
import pandas as pd

from segmentation_pipeline.domain.segments.features import CLUSTER_FEATURES, prepare_features
from segmentation_pipeline.domain.segments.playbook import recommended_action
from segmentation_pipeline.domain.segments.snapshot import SNAPSHOT_COLUMNS

PROFILE_COLUMNS: tuple[str, ...] = (
    "recency_days",
    "frequency",
    "monetary_net",
    "avg_order_value",
    "units_per_order",
    "discount_share",
    "return_rate_units",
    "tenure_days",
    "category_breadth",
    "service_contacts",
    "campaign_responses",
)
"""Snapshot columns a profile describes (besides the model features' ``z_`` columns)."""

TOP_CATEGORIES = 3
"""Categories listed per segment in ``top_categories``."""

SIZE_COLUMNS: dict[str, str] = {
    "customers": "Customers in the segment.",
    "share_customers": "Share of all customers in the segment.",
    "revenue_share": "The segment's share of all customers' net money kept (negative for a segment of net returners).",
}
STATISTIC_TEMPLATES: dict[str, str] = {
    "mean": "Mean over the segment's customers of `{feature}`: {meaning}",
    "median": "Median over the segment's customers of `{feature}`: {meaning}",
    "z": "Segment mean of `{feature}` in standard deviations from all customers' mean, on the model's feature scale "
    "(0 = the typical customer): {meaning}",
}
"""How a profile column ``<statistic>_<feature>`` of a snapshot feature is described."""
RENAMED_STATISTICS = {"return_rate": ("mean", "return_rate_units")}
"""Profile statistics not named ``<statistic>_<feature>``: the statistic and feature they are."""


def profile_statistic_columns(columns: Iterable[str]) -> dict[str, str]:
    """The meaning of each size and statistic column of a profile among ``columns`` (a statistic's from the
    snapshot feature it summarises); other columns are left out."""
    described = {}
    for column in columns:
        statistic, _, feature = column.partition("_")
        statistic, feature = RENAMED_STATISTICS.get(column, (statistic, feature))
        if column in SIZE_COLUMNS:
            described[column] = SIZE_COLUMNS[column]
        elif statistic in STATISTIC_TEMPLATES and feature in SNAPSHOT_COLUMNS:
            described[column] = STATISTIC_TEMPLATES[statistic].format(
                feature=feature, meaning=SNAPSHOT_COLUMNS[feature]
            )
    return described


def top_categories(category_spend: pd.DataFrame, segments: pd.Series, n: int = TOP_CATEGORIES) -> pd.Series:
    """The ``n`` categories with the largest share of each segment's net spend, as readable text.

    ``category_spend`` holds one row per customer and category (``customer_id``,
    ``category``, ``net_spend``); ``segments`` maps customer id (index) to segment. A
    share is the category's net spend over the segment's net spend in the categories where
    it is positive (a category refunded more than bought in is left out, so shares stay
    between 0 and 1); largest first, ties by name, e.g. ``"apparel 41%, shoes 22%, home 12%"``.
    Segments without positive spend get an empty text.
    """
    spend = category_spend.assign(segment=category_spend["customer_id"].map(segments)).dropna(subset=["segment"])
    per_category = spend.groupby(["segment", "category"], sort=False)["net_spend"].sum().reset_index()
    positive = per_category[per_category["net_spend"] > 0]
    shares = positive.assign(share=positive["net_spend"] / positive.groupby("segment")["net_spend"].transform("sum"))
    ranked = shares.sort_values(["segment", "net_spend", "category"], ascending=[True, False, True])
    listed: dict[Any, list[str]] = {segment: [] for segment in pd.unique(segments)}
    for row in ranked.groupby("segment", sort=False).head(n).itertuples():
        listed[row.segment].append(f"{row.category} {row.share:.0%}")
    return pd.Series({s: ", ".join(top) for s, top in listed.items()}, name="top_categories", dtype=str).sort_index()


def segment_profiles(
    snapshot: pd.DataFrame, labels: np.ndarray, category_spend: pd.DataFrame | None = None
) -> pd.DataFrame:
    """What each segment looks like, one row per segment id (index ``segment``).

    ``customers`` and ``share_customers``; ``revenue_share`` (the segment's net revenue
    over the total, so shares sum to 1 and a segment of net returners can have a negative
    share); mean and median of recency, frequency, net revenue and tenure; mean average order
    value, units per order, discount share, ``return_rate`` (mean unit return rate), category
    breadth, service contacts and campaign responses; and ``z_<feature>`` for every ``CLUSTER_FEATURES``
    column: how far the segment's mean lies from the population's, in population standard
    deviations, on the model's feature scale (``log1p`` for heavy-tailed features), so
    +1 means "one standard deviation above the typical customer". Given ``category_spend``
    (one row per customer of the snapshot and category, see ``top_categories``), a
    ``top_categories`` column names each segment's largest categories by share of net spend.
    """
    labels = np.asarray(labels)
    if len(labels) != len(snapshot):
        raise ValueError(f"{len(labels)} labels for {len(snapshot)} customers")
    X, _ = prepare_features(snapshot)
    frame = pd.DataFrame({name: pd.to_numeric(snapshot[name]).to_numpy(dtype=float) for name in PROFILE_COLUMNS})
    frame = frame.rename(columns={"return_rate_units": "return_rate"}).assign(segment=labels)
    for j, name in enumerate(CLUSTER_FEATURES):
        frame[f"z_{name}"] = X[:, j]
    groups = frame.groupby("segment", sort=True)
    total_revenue = float(frame["monetary_net"].sum())
    out = pd.DataFrame(
        {
            "customers": groups.size(),
            "share_customers": groups.size() / len(frame),
            "revenue_share": groups["monetary_net"].sum() / total_revenue if total_revenue else np.nan,
            "mean_recency_days": groups["recency_days"].mean(),
            "median_recency_days": groups["recency_days"].median(),
            "mean_frequency": groups["frequency"].mean(),
            "median_frequency": groups["frequency"].median(),
            "mean_monetary_net": groups["monetary_net"].mean(),
            "median_monetary_net": groups["monetary_net"].median(),
            "mean_avg_order_value": groups["avg_order_value"].mean(),
            "mean_units_per_order": groups["units_per_order"].mean(),
            "mean_discount_share": groups["discount_share"].mean(),
            "return_rate": groups["return_rate"].mean(),
            "mean_tenure_days": groups["tenure_days"].mean(),
            "median_tenure_days": groups["tenure_days"].median(),
            "mean_category_breadth": groups["category_breadth"].mean(),
            "mean_service_contacts": groups["service_contacts"].mean(),
            "mean_campaign_responses": groups["campaign_responses"].mean(),
        }
    )
    for name in CLUSTER_FEATURES:
        out[f"z_{name}"] = groups[f"z_{name}"].mean()
    if category_spend is not None:
        out["top_categories"] = top_categories(category_spend, pd.Series(labels, index=snapshot["customer_id"]))
    out.index.name = "segment"
    return out


def named_profiles(latest: pd.DataFrame, category_spend: pd.DataFrame) -> pd.DataFrame:
    """Profiles of the segments of one day's customers (snapshot columns plus ``as_of_day``,
    ``segment_id`` and ``segment_name``), with the segment's name and its playbook action."""
    profiles = segment_profiles(latest, latest["segment_id"].to_numpy(), category_spend)
    names = latest.groupby("segment_id")["segment_name"].first()
    profiles.insert(0, "segment_name", names.reindex(profiles.index))
    profiles["recommended_action"] = [recommended_action(n) for n in profiles["segment_name"]]
    profiles.insert(0, "as_of_day", latest["as_of_day"].max())
    return profiles
