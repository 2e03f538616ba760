"""Dashboard frames built in Python: the segment map in the segment model's feature space, and the moves between
segments as links."""

import numpy as np
import pandas as pd
import pytest

from segmentation_pipeline.domain.reporting.frames import segment_map, transition_links
from segmentation_pipeline.domain.reporting.projection import principal_plane
from segmentation_pipeline.domain.segments.features import apply_scaling, prepare_features


def snapshot(rng: np.random.Generator, segment: str, customers: int, frequency: float, order_value: float):
    """Customers of one behaviour: their segment features around a typical frequency and order value."""
    orders = rng.poisson(frequency, customers) + 1
    units = orders * rng.integers(1, 4, customers)
    return pd.DataFrame(
        {
            "segment": segment,
            "recency_days": rng.uniform(1, 30 * 12 / frequency, customers),
            "frequency": orders,
            "monetary_net": orders * order_value * rng.uniform(0.8, 1.2, customers),
            "return_rate_units": rng.uniform(0, 0.3, customers),
            "avg_order_value": order_value * rng.uniform(0.8, 1.2, customers),
            "units_per_order": units / orders,
            "discount_share": rng.uniform(0, 0.5, customers),
            "units_bought": units,
            "lines_bought": units,
        }
    )


@pytest.fixture
def customers() -> pd.DataFrame:
    rng = np.random.default_rng(5)
    return pd.concat(
        [snapshot(rng, "Frequent", 150, 12.0, 60.0), snapshot(rng, "Occasional", 150, 1.0, 200.0)],
        ignore_index=True,
    )


def test_customers_of_different_segments_lie_apart_on_the_map(customers):
    points, projection = segment_map(customers, None)
    assert list(points.columns) == ["segment", "x", "y"]
    assert points["segment"].tolist() == customers["segment"].tolist()
    centres = points.groupby("segment")[["x", "y"]].mean()
    gap = np.linalg.norm(centres.loc["Frequent"] - centres.loc["Occasional"])
    assert gap > 2 * points.groupby("segment")[["x", "y"]].std().to_numpy().max()
    assert 0.5 < sum(projection.explained) <= 1.0


def test_the_map_uses_the_scaling_of_the_model_in_force(customers):
    _, model_scaling = prepare_features(customers.iloc[::3])
    points, _ = segment_map(customers, model_scaling)
    expected = principal_plane(apply_scaling(customers, model_scaling)).points.round(3)
    assert points[["x", "y"]].to_numpy() == pytest.approx(expected)
    unscaled = segment_map(customers, None)[0]
    assert not np.allclose(points[["x", "y"]].to_numpy(), unscaled[["x", "y"]].to_numpy())


def test_no_customers_give_an_empty_map():
    points, projection = segment_map(pd.DataFrame(), None)
    assert points.empty and list(points.columns) == ["segment", "x", "y"]
    assert projection.explained == (0.0, 0.0)


def test_transition_counts_become_one_link_per_move_made():
    counts = pd.DataFrame({"from_segment": ["A", "B", "(new)"], "A": [8, 2, 5], "B": [0, 6, 1], "(gone)": [1, 0, 0]})
    links = transition_links(counts)
    assert list(links.columns) == ["from_segment", "to_segment", "customers"]
    assert set(links.itertuples(index=False, name=None)) == {
        ("A", "A", 8),
        ("B", "A", 2),
        ("(new)", "A", 5),
        ("B", "B", 6),
        ("(new)", "B", 1),
        ("A", "(gone)", 1),
    }
    assert links["customers"].sum() == counts.drop(columns="from_segment").to_numpy().sum()


def test_no_transition_counts_give_no_links():
    assert list(transition_links(pd.DataFrame()).columns) == ["from_segment", "to_segment", "customers"]
    assert transition_links(pd.DataFrame({"from_segment": []})).empty
