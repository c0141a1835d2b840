from __future__ import annotations

import itertools

import moocore
import numpy as np
import pytest

from analysis.indicators import hypervolume, hypervolume_over_time, normalise


def brute_force_hypervolume(points: np.ndarray, reference_point: np.ndarray) -> float:
    """Exact hypervolume by cutting space into the grid of all point coordinates and summing the
    cells that some point dominates (independent of moocore)."""
    points = points[np.all(np.isfinite(points), axis=1) & np.all(points < reference_point, axis=1)]
    if len(points) == 0:
        return 0.0
    axes = [np.unique(np.append(points[:, j], reference_point[j])) for j in range(points.shape[1])]
    total = 0.0
    for cell in itertools.product(*(range(len(a) - 1) for a in axes)):
        corner = np.array([axes[j][i] for j, i in enumerate(cell)])
        if np.any(np.all(points <= corner, axis=1)):
            total += float(np.prod([axes[j][i + 1] - axes[j][i] for j, i in enumerate(cell)]))
    return total


@pytest.mark.parametrize("m", [2, 3])
def test_hypervolume_matches_brute_force(m: int) -> None:
    rng = np.random.default_rng(m)
    reference_point = np.full(m, 1.1)
    for _ in range(20):
        points = rng.uniform(0, 1.3, size=(rng.integers(1, 12), m))  # some beyond the reference point
        assert hypervolume(points, reference_point) == pytest.approx(brute_force_hypervolume(points, reference_point))


def test_hypervolume_of_a_known_set() -> None:
    # two boxes [0.5,1]x[0,1] and [0,1]x[0.5,1] overlap in [0.5,1]^2: 0.5 + 0.5 - 0.25
    assert hypervolume(np.array([[0.5, 0.0], [0.0, 0.5]]), np.array([1.0, 1.0])) == pytest.approx(0.75)


def test_points_outside_the_reference_point_and_failed_rows_contribute_nothing() -> None:
    reference_point = np.array([1.0, 1.0])
    assert hypervolume(np.array([[1.0, 0.0], [0.2, 1.5], [np.nan, 0.1]]), reference_point) == 0.0
    assert hypervolume(np.empty((0, 2)), reference_point) == 0.0


@pytest.mark.parametrize("m", [2, 3, 4])
def test_hypervolume_over_time_matches_one_call_per_prefix(m: int) -> None:
    rng = np.random.default_rng(10 + m)
    points = rng.uniform(0, 1.2, size=(300, m))
    points[rng.choice(300, 30, replace=False)] = np.nan  # failed evaluations
    points[50] = points[20]  # a repeated configuration
    reference_point = np.full(m, 1.1)
    fast = hypervolume_over_time(points, reference_point)
    for i in range(len(points)):
        assert fast[i] == pytest.approx(hypervolume(points[: i + 1], reference_point), rel=1e-12, abs=1e-15)
    assert np.all(np.diff(fast) >= 0)


def test_hypervolume_over_time_across_chunk_boundaries() -> None:
    rng = np.random.default_rng(0)
    points = rng.uniform(0, 1, size=(5000, 3))  # more rows than one screening chunk
    fast = hypervolume_over_time(points, np.ones(3))
    for i in (0, 1, 2047, 2048, 2049, 4095, 4096, 4999):
        assert fast[i] == pytest.approx(float(moocore.hypervolume(points[: i + 1], ref=np.ones(3))))


def test_normalise_maps_bounds_to_zero_and_one() -> None:
    values = np.array([[2.0, 10.0], [4.0, 30.0]])
    assert normalise(values, np.array([2.0, 10.0]), np.array([4.0, 30.0])).tolist() == [[0.0, 0.0], [1.0, 1.0]]
    with pytest.raises(ValueError, match="upper bound must exceed"):
        normalise(values, np.array([1.0, 1.0]), np.array([1.0, 2.0]))


def test_hypervolume_over_time_when_almost_every_row_changes_the_front() -> None:
    rng = np.random.default_rng(1)
    points = rng.uniform(0, 1, size=(3000, 3))
    points = points[np.argsort(-points[:, 0])]  # each row has the best first objective so far
    points[1500:1600] = points[1400:1500]  # and some repeats, covered by earlier rows of their chunk
    fast = hypervolume_over_time(points, np.ones(3))
    for i in range(0, 3000, 97):
        assert fast[i] == pytest.approx(float(moocore.hypervolume(points[: i + 1], ref=np.ones(3))))
