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

from collections.abc import Callable

import moocore
import numpy as np

#: rows in the first block whose front changes one moocore call finds; blocks grow 4x
_FIRST_BLOCK = 1024
#: front points a block's rows are screened against before the exact test,
#: chosen on a sample of this many rows
_SCREEN = 16
_SAMPLE = 1024
#: front changes evaluated on one stacked array before it is reduced to its non-dominated points again
_GROUP = 64


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


def _by_objective(points: np.ndarray) -> np.ndarray:
    """``points`` (n, m) as one contiguous row per objective (m, n).

    Comparisons along the short last axis, and gathers (``take``) and comparisons on a strided column of a
    large (n, m) array, are several times slower than on a contiguous one (``take`` of a million rows: 6x).
    """
    return np.ascontiguousarray(points.T)


def _inside(columns: np.ndarray, reference_point: np.ndarray) -> np.ndarray:
    """Rows that are finite and strictly better than the reference point in every objective, from the
    points' objectives as contiguous rows (``_by_objective``)."""
    # NaN compares False
    inside = np.ones(columns.shape[1], dtype=bool)
    for column, bound in zip(columns, reference_point):
        inside &= (column < bound) & (column > -np.inf)
    return inside


def _finite(points: np.ndarray) -> np.ndarray:
    return np.all(np.isfinite(points), axis=1)


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
    return _over_time(points, _by_objective(points), _finite(points),
                      lambda current: float(measure(current, ref=front)), np.inf)


def hypervolume(points: np.ndarray, reference_point: np.ndarray) -> float:
    """Hypervolume of ``points`` (n, m) with respect to ``reference_point`` (m,); 0 for no useful point."""
    reference_point = np.asarray(reference_point, dtype=float)
    points = np.asarray(points, dtype=float).reshape(-1, len(reference_point))
    points = points[_inside(_by_objective(points), reference_point)]
    if len(points) == 0:
        return 0.0
    return float(moocore.hypervolume(points, ref=reference_point))


def igd_plus(points: np.ndarray, front: np.ndarray) -> float:
    """IGD+ of ``points`` (n, m) to the reference ``front`` (k, m); +inf for no finite point."""
    return _to_front(points, front, moocore.igd_plus)


def epsilon_additive(points: np.ndarray, front: np.ndarray) -> float:
    """Additive epsilon of ``points`` (n, m) to the reference ``front`` (k, m); +inf for no finite point."""
    return _to_front(points, front, moocore.epsilon_additive)


def _screened(rows: np.ndarray, points: np.ndarray, by_objective: np.ndarray, front: np.ndarray) -> np.ndarray:
    """``rows`` less some of those that a point of ``front`` weakly dominates.

    Up to ``_SCREEN`` front points are tried, chosen greedily on an evenly spaced sample of the rows (each
    the one that covers most of the sample the previous ones left); none where none covers a sampled row
    (where almost every row changes the front). A sound pre-screen: the exact test follows.
    """
    sample = points[rows[:: max(1, len(rows) // _SAMPLE)]]
    covers = np.all(sample[:, None, :] >= front[None, :, :], axis=2)
    chosen = []
    while len(chosen) < _SCREEN and covers.any():
        best = int(np.argmax(covers.sum(axis=0)))
        chosen.append(best)
        covers = covers[~covers[:, best]]
    # one contiguous array per objective, compressed only once half the rows are out: comparisons along
    # a short last axis and boolean indexing of 2-D arrays are many times slower
    if rows[-1] - rows[0] == len(rows) - 1:  # consecutive rows (no failed one): views, not copies
        columns = [column[rows[0]:rows[-1] + 1] for column in by_objective]
    else:
        columns = [column.take(rows) for column in by_objective]
    keep = np.ones(len(rows), dtype=bool)
    for point in front[chosen]:
        covered = columns[0] >= point[0]
        for j in range(1, len(point)):
            covered &= columns[j] >= point[j]
        keep &= ~covered
        if np.count_nonzero(keep) < len(keep) // 2:
            kept = np.flatnonzero(keep)
            rows, columns, keep = rows.take(kept), [column.take(kept) for column in columns], keep.take(kept)
    return rows[keep]


def _change_rows(points: np.ndarray, by_objective: np.ndarray, useful: np.ndarray) -> np.ndarray:
    """The useful rows that change the non-dominated set of the useful rows up to them, in order.

    A row changes it exactly when no earlier useful row weakly dominates it, that is when the row,
    with its row number as one more objective, is non-dominated: one ``moocore.is_nondominated`` call
    per block of rows, after the front of the rows before (numbered -1). Each block is first screened
    against that front, so a typical run (a few hundred changes in a million rows) hands moocore few
    rows, and a run where almost every row changes the front costs a few calls; blocks grow 4x, so the
    later, larger ones meet a front of many rows.
    """
    rows = np.flatnonzero(useful)
    front = np.empty((0, points.shape[1]))
    changes = []
    block = _FIRST_BLOCK
    while len(rows):
        head, rows = rows[:block], rows[block:]
        if len(front):
            head = _screened(head, points, by_objective, front)
        numbered = np.vstack([np.column_stack([front, np.full(len(front), -1.0)]),
                              np.column_stack([points[head], head.astype(float)])])
        new = head[moocore.is_nondominated(numbered)[len(front):]]
        changes.append(new)
        front = moocore.filter_dominated(np.vstack([front, points[new]]))
        block *= 4
    return np.concatenate(changes) if changes else rows


def _over_time(
    points: np.ndarray, by_objective: np.ndarray, useful: np.ndarray, of_front: Callable[[np.ndarray], float],
    before: float,
) -> np.ndarray:
    """``of_front`` of the first i+1 rows for every i, evaluated only where the front changes.

    Exact for indicators that a weakly dominated point cannot change (all three here are): the value of
    a prefix is the value of any set with the same non-dominated points, here the front before a group of
    changes stacked with the group's rows up to the prefix (sliced, not copied, per change).
    """
    result = np.full(len(points), before)
    changes = _change_rows(points, by_objective, useful)
    if not len(changes):
        return result
    values = np.empty(len(changes))
    front = np.empty((0, points.shape[1]))
    for begin in range(0, len(changes), _GROUP):
        stacked = np.vstack([front, points[changes[begin:begin + _GROUP]]])
        for k in range(len(front), len(stacked)):
            values[begin + k - len(front)] = of_front(stacked[:k + 1])
        front = moocore.filter_dominated(stacked)
    result[changes[0]:] = np.repeat(values, np.diff(np.append(changes, len(points))))
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
    by_objective = _by_objective(points)
    # moocore's Hypervolume object checks the reference point once, not at every front change
    return _over_time(points, by_objective, _inside(by_objective, reference_point),
                      moocore.Hypervolume(ref=reference_point), 0.0)


def igd_plus_over_time(points: np.ndarray, front: np.ndarray) -> np.ndarray:
    """IGD+ of the first i+1 rows of ``points`` (n, m) to ``front`` for every i: non-increasing, +inf
    before the first finite row."""
    return _to_front_over_time(points, front, moocore.igd_plus)


def epsilon_additive_over_time(points: np.ndarray, front: np.ndarray) -> np.ndarray:
    """Additive epsilon of the first i+1 rows of ``points`` (n, m) to ``front`` for every i:
    non-increasing, +inf before the first finite row."""
    return _to_front_over_time(points, front, moocore.epsilon_additive)
