from __future__ import annotations

import itertools

import moocore
import numpy as np
import pytest

from analysis.indicators import (
    epsilon_additive,
    epsilon_additive_over_time,
    hypervolume,
    hypervolume_over_time,
    igd_plus,
    igd_plus_over_time,
    nondominated,
    normalise,
)


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


def brute_force_igd_plus(points: np.ndarray, front: np.ndarray) -> float:
    """Ishibuchi et al. (2015): mean over the front's points z of min over the set's points a of
    sqrt(sum_j max(a_j - z_j, 0)^2)."""
    points = points[np.all(np.isfinite(points), axis=1)]
    distances = [min(np.sqrt(np.sum(np.maximum(a - z, 0.0) ** 2)) for a in points) for z in front]
    return float(np.mean(distances))


def brute_force_epsilon_additive(points: np.ndarray, front: np.ndarray) -> float:
    """Zitzler et al. (2003): max over the front's points z of min over the set's points a of max_j (a_j - z_j)."""
    points = points[np.all(np.isfinite(points), axis=1)]
    return float(max(min(np.max(a - z) for a in points) for z in front))


def _random_front(rng: np.random.Generator, m: int, size: int) -> np.ndarray:
    """Points on the simplex sum = 0.5: mutually non-dominated."""
    weights = rng.dirichlet(np.ones(m), size=size)
    return 0.5 * weights


@pytest.mark.parametrize("m", [2, 3])
def test_igd_plus_and_epsilon_match_their_definitions(m: int) -> None:
    rng = np.random.default_rng(20 + m)
    for _ in range(20):
        front = _random_front(rng, m, int(rng.integers(1, 15)))
        points = rng.uniform(0, 1.3, size=(int(rng.integers(1, 12)), m))
        points[rng.random(len(points)) < 0.2] = np.nan  # failed evaluations are ignored
        if not np.isfinite(points).all(axis=1).any():
            points[0] = rng.uniform(0, 1, m)
        assert igd_plus(points, front) == pytest.approx(brute_force_igd_plus(points, front), rel=1e-12)
        assert epsilon_additive(points, front) == pytest.approx(brute_force_epsilon_additive(points, front), rel=1e-12)


def test_igd_plus_and_epsilon_of_known_sets() -> None:
    front = np.array([[0.0, 1.0], [1.0, 0.0]])
    # (0.5, 0.5): 0.5 worse than (0, 1) in the first objective, than (1, 0) in the second
    assert igd_plus(np.array([[0.5, 0.5]]), front) == pytest.approx(0.5)
    assert epsilon_additive(np.array([[0.5, 0.5]]), front) == pytest.approx(0.5)
    # a set that weakly dominates the front: IGD+ 0, epsilon <= 0
    assert igd_plus(np.array([[0.0, 0.0]]), front) == 0.0
    assert epsilon_additive(np.array([[-0.1, -0.2]]), front) == pytest.approx(-0.1)


def test_a_set_without_finite_points_is_infinitely_far_from_the_front() -> None:
    front = np.array([[0.0, 1.0], [1.0, 0.0]])
    for points in (np.empty((0, 2)), np.full((3, 2), np.nan)):
        assert igd_plus(points, front) == np.inf and epsilon_additive(points, front) == np.inf
    with pytest.raises(ValueError, match="non-empty .* finite"):
        igd_plus(np.zeros((1, 2)), np.empty((0, 2)))
    with pytest.raises(ValueError, match="non-empty .* finite"):
        epsilon_additive_over_time(np.zeros((1, 2)), np.array([[np.nan, 1.0]]))


@pytest.mark.parametrize("m", [2, 3])
def test_igd_plus_and_epsilon_over_time_match_one_call_per_prefix(m: int) -> None:
    rng = np.random.default_rng(30 + m)
    front = _random_front(rng, m, 25)
    points = rng.uniform(0, 1.4, size=(300, m))  # some beyond the reference point: they count here
    points[:3] = np.nan  # nothing finished yet: infinitely far
    points[rng.choice(300, 30, replace=False)] = np.nan
    points[60] = points[40]
    igd = igd_plus_over_time(points, front)
    epsilon = epsilon_additive_over_time(points, front)
    for i in range(len(points)):
        assert igd[i] == pytest.approx(igd_plus(points[: i + 1], front), rel=1e-12, abs=1e-15)
        assert epsilon[i] == pytest.approx(epsilon_additive(points[: i + 1], front), rel=1e-12, abs=1e-15)
    assert np.isinf(igd[:3]).all() and np.all(np.diff(igd[3:]) <= 0) and np.all(np.diff(epsilon[3:]) <= 0)


def test_normalise_maps_the_bounds_to_zero_and_one() -> None:
    values = np.array([[2.0, 10.0], [4.0, 30.0], [3.0, np.nan], [5.0, 0.0]])
    lower, upper = np.array([2.0, 10.0]), np.array([4.0, 30.0])
    np.testing.assert_allclose(normalise(values, lower, upper), (values - lower) / (upper - lower))
    assert normalise(np.array([3.0, 20.0]), lower, upper).tolist() == [0.5, 0.5]  # one point keeps its shape
    for bad_lower, bad_upper in (([1.0, 1.0], [1.0, 2.0]), ([np.nan, 1.0], [1.0, 2.0])):
        with pytest.raises(ValueError, match="upper bound must be finite and exceed"):
            normalise(values, np.array(bad_lower), np.array(bad_upper))


def test_nondominated_keeps_the_minimal_finite_points_once() -> None:
    rng = np.random.default_rng(5)
    points = rng.uniform(0, 1, size=(60, 3))
    points[10] = points[3]
    points[20] = np.nan
    finite = points[np.all(np.isfinite(points), axis=1)]
    minimal = [p for p in finite if not any(np.all(q <= p) and np.any(q < p) for q in finite)]
    np.testing.assert_array_equal(np.unique(nondominated(points), axis=0), np.unique(np.array(minimal), axis=0))
    assert len(nondominated(points)) == len(np.unique(np.array(minimal), axis=0))


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


@pytest.mark.parametrize("gaps", [False, True])
def test_hypervolume_over_time_across_block_boundaries(gaps: bool) -> None:
    rng = np.random.default_rng(0)
    points = rng.uniform(0, 1, size=(6000, 3))  # blocks of 1024 and 4096 rows, screened in between
    if gaps:  # failed rows and rows outside the reference point: the screened rows are not consecutive
        points[rng.choice(6000, 600, replace=False)] = np.nan
        points[rng.choice(6000, 600, replace=False), 1] = 1.5
    fast = hypervolume_over_time(points, np.ones(3))
    for i in (0, 1, 1023, 1024, 1025, 2000, 5119, 5120, 5121, 5999):
        assert fast[i] == pytest.approx(hypervolume(points[: i + 1], np.ones(3)), rel=1e-12)
    assert np.all(np.diff(fast) >= 0)


def test_hypervolume_over_time_when_almost_every_row_changes_the_front() -> None:
    rng = np.random.default_rng(1)
    points = rng.uniform(0, 1, size=(3000, 3))
    points = points[np.argsort(-points[:, 0])]  # each row has the best first objective so far
    points[1500:1600] = points[1400:1500]  # and some repeats, covered by earlier rows of their chunk
    fast = hypervolume_over_time(points, np.ones(3))
    for i in range(0, 3000, 97):
        assert fast[i] == pytest.approx(float(moocore.hypervolume(points[: i + 1], ref=np.ones(3))))


@pytest.mark.parametrize("m", [2, 3])
def test_hypervolume_over_time_when_every_row_is_non_dominated(m: int) -> None:
    # the worst order: every row changes the front and none leaves it (several groups of changes)
    rng = np.random.default_rng(2)
    points = _random_front(rng, m, 400)
    points[150] = points[100]  # a repeat changes nothing
    fast = hypervolume_over_time(points, np.full(m, 0.6))
    for i in range(len(points)):
        assert fast[i] == pytest.approx(float(moocore.hypervolume(points[: i + 1], ref=np.full(m, 0.6))), rel=1e-12)
    assert fast[150] == fast[149] and np.all(np.diff(np.delete(fast, 150)) > 0)
