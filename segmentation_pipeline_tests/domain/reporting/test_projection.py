"""The principal plane: the two directions along which customers' features vary most, drawn the same way every time."""

import numpy as np
import pytest

from segmentation_pipeline.domain.reporting.projection import principal_plane


def spread(rng: np.random.Generator, scales: list[float], rows: int = 400) -> tuple[np.ndarray, np.ndarray]:
    """Rows varying along orthonormal directions with the given standard deviations, in 5 dimensions, and the
    directions."""
    directions = np.linalg.qr(rng.normal(size=(5, 5)))[0][:, : len(scales)].T
    amounts = rng.normal(size=(rows, len(scales))) * np.asarray(scales)
    return amounts @ directions + 3.0, directions


def test_the_axes_follow_the_two_directions_of_largest_variance_in_order():
    rng = np.random.default_rng(1)
    rows, directions = spread(rng, [10.0, 4.0, 0.5])
    projection = principal_plane(rows)
    centred = rows - rows.mean(axis=0)
    for axis in range(2):
        along = centred @ directions[axis]
        assert abs(np.corrcoef(projection.points[:, axis], along)[0, 1]) > 0.99
    total = (centred**2).sum()
    assert projection.explained == pytest.approx([(projection.points[:, axis] ** 2).sum() / total for axis in range(2)])
    assert projection.explained[0] > projection.explained[1] > 0.1
    assert sum(projection.explained) == pytest.approx(1 - 0.25 / (100 + 16 + 0.25), abs=0.01)


def test_rows_that_vary_in_a_plane_keep_their_distances():
    rows, _ = spread(np.random.default_rng(2), [5.0, 2.0], rows=60)
    points = principal_plane(rows).points
    original = np.linalg.norm(rows[:, None, :] - rows[None, :, :], axis=2)
    drawn = np.linalg.norm(points[:, None, :] - points[None, :, :], axis=2)
    assert drawn == pytest.approx(original)
    assert principal_plane(rows).explained == pytest.approx((1, 0), abs=0.2)


def test_the_same_rows_in_another_order_give_the_same_picture():
    rows, _ = spread(np.random.default_rng(3), [6.0, 3.0, 1.0])
    order = np.random.default_rng(4).permutation(len(rows))
    assert principal_plane(rows[order]).points == pytest.approx(principal_plane(rows).points[order])


def test_each_axis_points_the_way_its_heaviest_feature_grows():
    rows = np.column_stack([np.arange(10.0), np.linspace(0, 1, 10), np.zeros(10)])
    for flipped in (rows, -rows):
        x = principal_plane(flipped).points[:, 0]
        assert np.all(np.diff(x[np.argsort(flipped[:, 0])]) > 0)


def test_rows_varying_along_one_direction_lie_on_the_first_axis():
    rows = np.outer(np.linspace(-1, 1, 7), [1.0, 2.0, 2.0])
    projection = principal_plane(rows)
    assert projection.points[:, 1] == pytest.approx(np.zeros(7))
    assert projection.points[:, 0] == pytest.approx(np.linspace(-3, 3, 7))
    assert projection.explained == pytest.approx((1.0, 0.0))


@pytest.mark.parametrize(
    "rows", [np.empty((0, 4)), np.ones((1, 4)), np.full((5, 3), 2.0)], ids=["none", "one", "equal"]
)
def test_rows_without_variation_sit_at_the_origin(rows):
    projection = principal_plane(rows)
    assert projection.points.shape == (len(rows), 2)
    assert not projection.points.any()
    assert projection.explained == (0.0, 0.0)
