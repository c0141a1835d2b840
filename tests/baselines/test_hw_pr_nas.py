"""HW-PR-NAS: its Plackett-Luce loss, its Pareto ranks and its surrogate on a real table."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from pymoo.util.nds.non_dominated_sorting import NonDominatedSorting
from scipy.stats import kendalltau

from baselines._levels import LevelGrid, LevelHistory
from baselines.hw_pr_nas import HWPRNAS, ParetoRankModel, encode, pareto_ranks, plackett_luce_loss
from suite.loops import simulate
from suite.spec import Budget
from tasks import make_task


def test_plackett_luce_loss_equals_a_hand_computation() -> None:
    scores = torch.tensor([1.0, 2.0, 0.5], dtype=torch.float64)
    # rank order: item 1 (rank 0), item 0 (rank 1), item 2 (rank 2)
    by_hand = -((2 - math.log(math.exp(2) + math.exp(1) + math.exp(0.5)))
                + (1 - math.log(math.exp(1) + math.exp(0.5)))
                + (0.5 - math.log(math.exp(0.5))))
    assert float(plackett_luce_loss(scores, torch.tensor([1, 0, 2]))) == pytest.approx(by_hand, rel=1e-12)
    # tied ranks keep their order in the list: items 0 and 1 tie at rank 0, so the order is 0, 1, 2
    tied = -((1 - math.log(math.exp(1) + math.exp(2) + math.exp(0.5)))
             + (2 - math.log(math.exp(2) + math.exp(0.5))) + 0.0)
    assert float(plackett_luce_loss(scores, torch.tensor([0, 0, 1]))) == pytest.approx(tied, rel=1e-12)
    # and the loss is lowest when the scores agree with the ranks
    assert float(plackett_luce_loss(torch.tensor([3.0, 2.0, 1.0]), torch.tensor([0, 1, 2]))) < \
        float(plackett_luce_loss(torch.tensor([1.0, 2.0, 3.0]), torch.tensor([0, 1, 2])))


def test_pareto_ranks_agree_with_pymoos_non_dominated_sorting() -> None:
    rng = np.random.default_rng(0)
    points = np.round(rng.random((300, 3)), 1)  # rounded: many ties and duplicates
    _, expected = NonDominatedSorting().do(points, return_rank=True)
    np.testing.assert_array_equal(pareto_ranks(points), expected)
    assert pareto_ranks(points).max() > 3


def test_surrogate_learns_pareto_ranks_of_a_real_table() -> None:
    task = make_task("fcnet-naval")
    table = task.table
    grid = LevelGrid(task.space)
    rng = np.random.default_rng(1)
    rows = rng.choice(len(table.expected), size=300, replace=False)
    indices = np.array([grid.indices(table.config(int(r))) for r in rows])
    values = table.expected[rows, -1, :]
    train, test = slice(0, 100), slice(100, 300)
    model = ParetoRankModel(encode(grid, indices[:1], None).shape[1], 32, rng)
    before = kendalltau(-model.predict(encode(grid, indices[test], None)), pareto_ranks(values[test])).statistic
    model.fit([(encode(grid, indices[train], None), pareto_ranks(values[train]))], epochs=100)
    after = kendalltau(-model.predict(encode(grid, indices[test], None)), pareto_ranks(values[test])).statistic
    assert after > 0.3 and after > before + 0.2, (before, after)


def test_context_is_part_of_the_encoding_and_every_trial_is_new() -> None:
    task = make_task("fcnet-naval")
    context = np.array([0.5, -1.0, 2.0])
    baseline = HWPRNAS(task.space, task.objectives, None, 0, context=context, n_startup_trials=5, epochs=5)
    rows: list[dict] = []
    simulate(baseline, task, 0, Budget(evaluations=25), 3, rows.append)
    assert len({row["config"] for row in rows}) == 25  # never the same configuration twice
    grid = baseline._history.grid
    encoded = encode(grid, grid.indices(task.space.sample_configuration()), context)
    np.testing.assert_array_equal(encoded[0, -3:], context)


def test_level_history_counts_a_failure_as_tried_but_not_as_data() -> None:
    # the history hw_pr_nas and device_hypernet share: a failed configuration is never proposed again, yet
    # the model only learns from results with values, and only a result makes the model stale
    task = make_task("fcnet-naval")
    history = LevelHistory(task.space)
    good, failed = (dict(c) for c in task.space.sample_configuration(2))
    history.observe(failed, None)
    assert history.tried == {tuple(history.grid.indices(failed))} and history.n_results == 0 and not history.stale
    history.observe(good, np.array([0.25, 3.0]))
    assert history.stale and history.n_results == 1 and len(history.tried) == 2
    np.testing.assert_array_equal(history.x, [history.grid.indices(good)])
    np.testing.assert_array_equal(history.y, [[0.25, 3.0]])
