"""The shared successive-halving machinery: rung budgets and sizes against hand-computed Hyperband brackets, the
multi-objective orderings against independent computations, and ASHA's promotions with pending jobs."""

from __future__ import annotations

import numpy as np
import pytest

from baselines._successive_halving import (
    AsynchronousSuccessiveHalving,
    Hyperband,
    epsilon_net_order,
    hyperband_budgets,
    hyperband_sizes,
    nondominated_order,
    rung_budgets,
    select_best,
)
from tasks.base import Fidelity

#: Li, Jamieson, DeSalvo, Rostamizadeh and Talwalkar, "Hyperband", JMLR 18(185), 2018, Table 1 (R = 81,
#: eta = 3): bracket s -> (n_i configurations, r_i budget) of each rung, copied from the paper
LI_ET_AL_TABLE_1 = {
    4: [(81, 1), (27, 3), (9, 9), (3, 27), (1, 81)],
    3: [(34, 3), (11, 9), (3, 27), (1, 81)],
    2: [(15, 9), (5, 27), (1, 81)],
    1: [(8, 27), (2, 81)],
    0: [(5, 81)],
}


def naive_ranks(points: np.ndarray) -> np.ndarray:
    """Non-dominated sorting by peeling fronts off a pairwise dominance matrix."""
    dominates = (np.all(points[:, None] <= points[None], axis=2) & np.any(points[:, None] < points[None], axis=2))
    ranks = np.full(len(points), -1)
    rank = 0
    while (ranks < 0).any():
        left = ranks < 0
        ranks[left & ~dominates[left].any(axis=0)] = rank
        rank += 1
    return ranks


def area_2d(points: np.ndarray, reference: np.ndarray) -> float:
    """Hypervolume of a 2-D set as a sum of rectangles (independent of moocore)."""
    total, best_y = 0.0, reference[1]
    for x, y in sorted(map(tuple, points)):
        if y < best_y:
            total += (reference[0] - x) * (best_y - y)
            best_y = y
    return total


def naive_select(points: np.ndarray, k: int, reference: np.ndarray) -> set[int]:
    ranks = naive_ranks(points)
    chosen: list[int] = []
    for rank in range(ranks.max() + 1):
        front = list(np.flatnonzero(ranks == rank))
        while len(chosen) + len(front) > k:
            whole = area_2d(points[front], reference)
            loss = [whole - area_2d(points[[f for f in front if f != i]], reference) for i in front]
            front.pop(int(np.argmin(loss)))
        chosen.extend(front)
        if len(chosen) == k:
            break
    return set(chosen)


def naive_farthest_first(points: np.ndarray) -> list[int]:
    """Clarkson's epsilon-net by plain loops: start at the smallest first objective, then farthest from the chosen."""
    order = [min(range(len(points)), key=lambda i: (points[i][0], i))]
    while len(order) < len(points):
        def gap(i: int) -> float:
            return min(float(np.sqrt(((points[i] - points[j]) ** 2).sum())) for j in order)
        rest = [i for i in range(len(points)) if i not in order]
        order.append(max(rest, key=lambda i: (gap(i), -i)))
    return order


@pytest.mark.parametrize("seed", range(5))
def test_select_best_matches_an_independent_computation(seed: int) -> None:
    rng = np.random.default_rng(seed)
    points = rng.random((30, 2))
    points[:8] = np.c_[np.linspace(0, 0.5, 8), np.linspace(0.5, 0, 8) ** 2]  # a long first front to thin
    reference = np.array([1.1, 1.1])
    for k in (1, 3, 5, 12, 20, 30):
        chosen = select_best(points, k, reference)
        assert len(chosen) == k
        assert set(chosen.tolist()) == naive_select(points, k, reference)


def test_hyperband_budgets() -> None:
    assert hyperband_budgets(1, 27, 3) == [1, 3, 9, 27]
    assert np.allclose(hyperband_budgets(1, 25, 3), [25 / 9, 25 / 3, 25])
    assert hyperband_budgets(5, 5, 3) == [5]


def test_hyperband_schedule_is_li_et_al_table_1() -> None:
    budgets = hyperband_budgets(1, 81, 3)
    for s, rungs in LI_ET_AL_TABLE_1.items():
        assert hyperband_sizes(s, 4, 3) == [n for n, _ in rungs]
        assert budgets[4 - s:] == pytest.approx([r for _, r in rungs])


def test_rung_budgets_by_hand() -> None:
    # epochs 1..25, eta 3: 25/9 = 2.8 -> 3, 25/3 = 8.3 -> 8, 25
    assert rung_budgets(Fidelity("epochs", 1, 25), None, None, 3) == [3.0, 8.0, 25.0]
    # the paper's 5..25 epochs with eta 2: 6.25 -> 6, 12.5 -> 12 (Python rounds half to even), 25
    assert rung_budgets(Fidelity("epochs", 5, 25), None, None, 2) == [6.0, 12.0, 25.0]
    # tabulated levels: 200 * 3**-i = 2.5, 7.4, 22.2, 66.7, 200, each to its nearest level (2.5 -> 1 on the tie)
    levels = Fidelity("epochs", 1, 200, values=(1, 4, 12, 50, 200))
    assert rung_budgets(levels, None, None, 3) == [1.0, 4.0, 12.0, 50.0, 200.0]
    # levels too coarse for every rung: neighbouring rungs merge
    assert rung_budgets(Fidelity("epochs", 1, 27, values=(1, 27)), None, None, 3) == [1.0, 27.0]
    assert rung_budgets(None, None, None, 3) == [None]
    with pytest.raises(ValueError, match="need a task with a fidelity"):
        rung_budgets(None, 1, None, 3)
    with pytest.raises(ValueError, match="min_budget=30, max_budget=27"):
        rung_budgets(Fidelity("epochs", 1, 27), 30, 27, 3)


def test_hyperband_hands_out_the_brackets_of_eta_3_and_27_epochs() -> None:
    # by hand, s_max = 3: bracket 3: 27 @ 1, 9 @ 3, 3 @ 9, 1 @ 27; bracket 2: ceil(4/3 * 9) = 12 @ 3, ...
    assert [hyperband_sizes(s, 3, 3) for s in (3, 2, 1, 0)] == [[27, 9, 3, 1], [12, 4, 1], [6, 2], [4]]
    schedule = Hyperband([1.0, 3.0, 9.0, 27.0], 3)
    counter = iter(range(10**6))
    seen: list[tuple[int, float | None]] = []
    for trial_id in range(27 + 9 + 3 + 1 + 12 + 4 + 1):  # one worker: every job told before the next ask
        config, budget = schedule.next_job(trial_id, lambda: {"i": next(counter)})
        seen.append((config["i"], budget))
        schedule.finished(trial_id, config, np.array([config["i"] % 7, 1.0 / (1 + config["i"])]))
    assert [b for _, b in seen] == [1.0] * 27 + [3.0] * 9 + [9.0] * 3 + [27.0] + [3.0] * 12 + [9.0] * 4 + [27.0]
    # the promoted 9 of the first rung are select_best's 9 of its 27 points, in the order they were told
    first = np.array([[i % 7, 1.0 / (1 + i)] for i in range(27)])
    best = sorted(select_best(first, 9, np.maximum(1.1, first.max(axis=0) + 0.1)).tolist())
    assert [i for i, _ in seen[27:36]] == best


def test_epsilon_net_order_matches_plain_loops() -> None:
    rng = np.random.default_rng(3)
    for n in (1, 2, 5, 17):
        points = rng.random((n, 3))
        assert epsilon_net_order(points).tolist() == naive_farthest_first(points)
    # by hand: seed (0, 1) (smallest first objective), then (1, 0) (farthest), then the middle (0.5, 0.5)
    front = np.array([[0.5, 0.5], [1.0, 0.0], [0.0, 1.0], [0.4, 0.6]])
    assert epsilon_net_order(front).tolist() == [2, 1, 0, 3]


@pytest.mark.parametrize("seed", range(3))
def test_nondominated_order_is_fronts_then_farthest_first(seed: int) -> None:
    points = np.random.default_rng(seed).random((25, 2)).round(1)  # rounded: ties and duplicates
    ranks = naive_ranks(points)
    expected: list[int] = []
    for rank in range(ranks.max() + 1):
        front = np.flatnonzero(ranks == rank)
        expected.extend(int(front[i]) for i in naive_farthest_first(points[front]))
    assert nondominated_order(points).tolist() == expected
    for count in (0, 1, 4, 13):  # a prefix is the prefix of the whole order
        assert nondominated_order(points, count).tolist() == expected[:count]


def test_asha_promotes_the_top_third_of_a_rung_by_nondominated_order() -> None:
    schedule = AsynchronousSuccessiveHalving([1.0, 3.0, 9.0], eta=3)
    # the first rung's 6 results, told in this order; the non-dominated ones are 1, 3 and 4
    points = np.array([[0.9, 0.9], [0.1, 0.8], [0.5, 0.6], [0.7, 0.2], [0.3, 0.5], [0.95, 0.95]])
    counter = iter(range(100))
    jobs = [schedule.next_job(i, lambda: {"i": next(counter)}) for i in range(6)]
    assert [budget for _, budget in jobs] == [1.0] * 6
    for i, (config, budget) in enumerate(jobs):
        schedule.finished(i, config, budget, points[config["i"]])
    # floor(6 / 3) = 2 promotable: of the front {1, 3, 4}, farthest first from 1 (smallest f1) is 3
    assert schedule.next_job(6, lambda: {"i": next(counter)}) == ({"i": 1}, 3.0)
    assert schedule.next_job(7, lambda: {"i": next(counter)}) == ({"i": 3}, 3.0)
    # both booked while still pending: the next job is a new configuration at the lowest rung
    assert schedule.next_job(8, lambda: {"i": next(counter)}) == ({"i": 6}, 1.0)
    # rung 1 gets one result (0 promotable there: floor(1 / 3)); rung 0's 7th result makes floor(7/3) = 2
    schedule.finished(7, {"i": 3}, 3.0, np.array([0.6, 0.1]))
    schedule.finished(8, {"i": 6}, 1.0, np.array([0.05, 0.05]))
    # 6 dominates all: the top 2 are now 6 and 1 (6 is the new seed; 1 was promoted: 6 goes)
    assert schedule.next_job(9, lambda: {"i": next(counter)}) == ({"i": 6}, 3.0)
    # trial 6 (config 1 at 3 epochs) fails: it enters no rung, and nothing more is promotable
    schedule.finished(6, {"i": 1}, 3.0, None)
    assert schedule.next_job(10, lambda: {"i": next(counter)}) == ({"i": 7}, 1.0)


def test_asha_promotes_from_the_highest_rung_first_and_replays_place_by_budget() -> None:
    schedule = AsynchronousSuccessiveHalving([1.0, 2.0, 4.0], eta=2)
    for i in range(2):  # two results at budget 2, replayed (no trial id), then promotable at rung 1
        schedule.finished(None, {"i": i}, 2.0, np.array([0.2 * i, 1.0 - 0.2 * i]))
    for i in range(2, 4):
        schedule.finished(None, {"i": i}, 1.0, np.array([0.5, 0.5 + 0.1 * i]))
    schedule.finished(None, {"i": 9}, 3.0, np.array([0.0, 0.0]))  # 3 is no rung's budget: ignored
    # rung 1 (budget 2) first: floor(2 / 2) = 1, its best by the order is config 0 (smallest first objective)
    assert schedule.next_job(0, dict) == ({"i": 0}, 4.0)
    assert schedule.next_job(1, dict) == ({"i": 2}, 2.0)  # then rung 0's best: config 2 dominates 3
    assert schedule.next_job(2, dict) == ({}, 1.0)  # nothing else: a new configuration
    # a replayed result of config 3 at budget 2 means it was promoted from budget 1 already
    schedule.finished(None, {"i": 3}, 2.0, np.array([0.9, 0.9]))
    assert '{"i": 3}' in schedule.rungs[0].promoted
