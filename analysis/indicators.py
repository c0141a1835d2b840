"""Quality indicators of a set of points as pure functions over arrays (minimisation, normalised objectives).

- **Hypervolume**: the Lebesgue measure of the region the points dominate, bounded by a reference point
  (Zitzler & Thiele, 1998, "Multiobjective optimization using evolutionary algorithms - a comparative case
  study"). Higher is better; points that do not strictly dominate the reference point contribute nothing.
- **IGD+** (inverted generational distance plus): the mean over the points z of a reference front of the
  smallest "dominance distance" sqrt(sum_j max(a_j - z_j, 0)^2) from a point a of the set (Ishibuchi et al.,
  2015, "Modified distance calculation in generational distance and inverted generational distance", EMO).
  Lower is better, 0 once the set weakly dominates the whole front.
- **Additive epsilon**: the smallest amount every point of the set must be moved by (in every objective) to
  weakly dominate each point of a reference front, max_z min_a max_j (a_j - z_j) (Zitzler et al., 2003,
  "Performance assessment of multiobjective optimizers: an analysis and review", IEEE TEC 7(2)). Lower is
  better; 0 or below once the set weakly dominates the front.

All three are computed by moocore (López-Ibáñez et al.), as are normalisation and non-dominated filtering.
Rows with NaN (failed evaluations) are ignored. IGD+ and additive epsilon of a set without any finite point
are +inf (nothing attains the front); moocore alone would return 0 for IGD+ there.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import moocore
import numpy as np

#: rows checked against the current front at once before the few survivors are handled one by one
_CHUNK = 2048


def normalise(values: np.ndarray, lower: np.ndarray, upper: np.ndarray) -> np.ndarray:
    """Objective values (n, m) mapped linearly so that ``lower`` becomes 0 and ``upper`` 1 per objective
    (values outside the bounds map outside [0, 1]; NaN stays NaN)."""
    lower = np.asarray(lower, dtype=float)
    upper = np.asarray(upper, dtype=float)
    # moocore reads a NaN bound as "use the data's minimum/maximum": fixed bounds must be finite
    if not np.all(np.isfinite(lower) & np.isfinite(upper) & (upper > lower)):
        raise ValueError(f"every upper bound must be finite and exceed its lower bound, got lower={lower}, upper={upper}")
    values = np.asarray(values, dtype=float)
    # moocore takes rows of points; a single point (m,) keeps its shape
    return moocore.normalise(values.reshape(-1, len(lower)), to_range=(0.0, 1.0), lower=lower,
                             upper=upper).reshape(values.shape)


def nondominated(points: np.ndarray) -> np.ndarray:
    """The non-dominated rows of the finite rows of ``points`` (n, m), each distinct point once."""
    points = np.asarray(points, dtype=float)
    points = points[np.all(np.isfinite(points), axis=1)]
    return moocore.filter_dominated(points) if len(points) else points


def _inside(points: np.ndarray, reference_point: np.ndarray) -> np.ndarray:
    """Rows that are finite and strictly better than the reference point in every objective."""
    return np.all(np.isfinite(points), axis=1) & np.all(points < reference_point, axis=1)


def _finite(points: np.ndarray) -> np.ndarray:
    return np.all(np.isfinite(points), axis=1)


def _weakly_dominated(points: np.ndarray, front: np.ndarray) -> np.ndarray:
    """Rows of ``points`` that some row of ``front`` weakly dominates (is <= in every objective)."""
    # one 2-D comparison per objective: an order of magnitude faster than a 3-D array reduced over its
    # short last axis
    covered = points[:, None, 0] >= front[None, :, 0]
    for j in range(1, points.shape[1]):
        covered &= points[:, None, j] >= front[None, :, j]
    return covered.any(axis=1)


def _with_front(points: np.ndarray, front: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``points`` as (n, m) floats and the checked reference ``front`` (k, m)."""
    front = np.asarray(front, dtype=float)
    if front.ndim != 2 or len(front) == 0 or not np.all(np.isfinite(front)):
        raise ValueError(f"a reference front must be a non-empty (k, m) array of finite values, got shape {front.shape}")
    return np.asarray(points, dtype=float).reshape(-1, front.shape[1]), front


def _to_front(points: np.ndarray, front: np.ndarray, measure: Callable[..., float]) -> float:
    points, front = _with_front(points, front)
    points = points[_finite(points)]
    return float(measure(points, ref=front)) if len(points) else np.inf


def _to_front_over_time(points: np.ndarray, front: np.ndarray, measure: Callable[..., float]) -> np.ndarray:
    points, front = _with_front(points, front)
    return _over_time(points, _finite(points), lambda current: float(measure(current, ref=front)), np.inf)


def hypervolume(points: np.ndarray, reference_point: np.ndarray) -> float:
    """Hypervolume of ``points`` (n, m) with respect to ``reference_point`` (m,); 0 for no useful point."""
    reference_point = np.asarray(reference_point, dtype=float)
    points = np.asarray(points, dtype=float).reshape(-1, len(reference_point))
    points = points[_inside(points, reference_point)]
    if len(points) == 0:
        return 0.0
    return float(moocore.hypervolume(points, ref=reference_point))


def igd_plus(points: np.ndarray, front: np.ndarray) -> float:
    """IGD+ of ``points`` (n, m) to the reference ``front`` (k, m); +inf for no finite point."""
    return _to_front(points, front, moocore.igd_plus)


def epsilon_additive(points: np.ndarray, front: np.ndarray) -> float:
    """Additive epsilon of ``points`` (n, m) to the reference ``front`` (k, m); +inf for no finite point."""
    return _to_front(points, front, moocore.epsilon_additive)


def _front_changes(points: np.ndarray, useful: np.ndarray) -> Iterator[tuple[int, np.ndarray]]:
    """(row, non-dominated set of the useful rows up to it) for every useful row that changes that set.

    Rows are screened against the current front in vectorised chunks, so the per-row Python work is spent
    on the rare rows that may improve it (random search on a 3-objective table changes its front a few
    hundred times in 100,000 evaluations).
    """
    front = np.empty((0, points.shape[1]))
    for begin in range(0, len(points), _CHUNK):
        chunk = points[begin:begin + _CHUNK]
        candidates = np.flatnonzero(useful[begin:begin + _CHUNK])
        if len(front) and len(candidates):
            candidates = candidates[~_weakly_dominated(chunk[candidates], front)]
        for offset in candidates:
            point = chunk[offset]
            if len(front) and (front <= point).all(axis=1).any():
                continue  # an earlier row of this chunk already covers it
            front = np.vstack([front[~(point <= front).all(axis=1)], point])
            yield begin + int(offset), front


def _over_time(
    points: np.ndarray, useful: np.ndarray, of_front: Callable[[np.ndarray], float], before: float,
) -> np.ndarray:
    """``of_front`` of the first i+1 rows for every i, evaluated only where the front changes.

    Exact for indicators that a weakly dominated point cannot change (all three here are): the value of
    a prefix is the value of its non-dominated set.
    """
    result = np.full(len(points), before)
    changes = [(row, of_front(front)) for row, front in _front_changes(points, useful)]
    for k, (row, value) in enumerate(changes):
        end = changes[k + 1][0] if k + 1 < len(changes) else len(points)
        result[row:end] = value
    return result


def hypervolume_over_time(points: np.ndarray, reference_point: np.ndarray) -> np.ndarray:
    """Hypervolume of the first i+1 rows of ``points`` for every i, in one pass.

    Args:
        points: (n, m) objective values in evaluation order, minimised; NaN rows (failed) are skipped.
        reference_point: (m,) the reference point in the same space.

    Returns:
        (n,) non-decreasing hypervolumes (0 before the first point inside the reference point).
    """
    reference_point = np.asarray(reference_point, dtype=float)
    points = np.asarray(points, dtype=float).reshape(-1, len(reference_point))
    return _over_time(points, _inside(points, reference_point),
                      lambda front: float(moocore.hypervolume(front, ref=reference_point)), 0.0)


def igd_plus_over_time(points: np.ndarray, front: np.ndarray) -> np.ndarray:
    """IGD+ of the first i+1 rows of ``points`` (n, m) to ``front`` for every i: non-increasing, +inf
    before the first finite row."""
    return _to_front_over_time(points, front, moocore.igd_plus)


def epsilon_additive_over_time(points: np.ndarray, front: np.ndarray) -> np.ndarray:
    """Additive epsilon of the first i+1 rows of ``points`` (n, m) to ``front`` for every i:
    non-increasing, +inf before the first finite row."""
    return _to_front_over_time(points, front, moocore.epsilon_additive)
