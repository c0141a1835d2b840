"""MO-BOHB: its Hyperband schedule end to end, the density, promotions (the shared machinery: test_successive_halving.py)."""

from __future__ import annotations

import math

import moocore
import numpy as np
import pytest
import scipy.stats

from baselines._successive_halving import select_best
from baselines.mobohb import MOBOHB, _KDE
from tasks import make_task
from tasks.base import Fidelity, Result
from test_successive_halving import LI_ET_AL_TABLE_1
from toy_tasks import ToyTask


def test_one_worker_runs_the_brackets_of_li_et_al_table_1_in_order() -> None:
    task = ToyTask(fidelity=Fidelity("epochs", 1, 81))
    baseline = MOBOHB(task.space, task.objectives, task.fidelity, seed=0)
    expected = [float(r) for s in (4, 3, 2, 1, 0) for n, r in LI_ET_AL_TABLE_1[s] for _ in range(n)]
    asked = []
    for _ in expected:
        trial = baseline.ask()
        baseline.tell(trial, task.evaluate(trial.config, trial.fidelity, seed=trial.id))
        asked.append(trial.fidelity)
    assert asked == expected


def test_the_density_of_one_continuous_dimension_is_scipys_gaussian_kde() -> None:
    data = np.random.default_rng(0).random((40, 1))
    kde = _KDE(data, np.array([0]), min_bandwidth=1e-3)
    # the normal reference rule: 1.06 * sigma * n**(-1/5) in one dimension (sigma with ddof 0)
    bandwidth = 1.06 * data[:, 0].std() * 40 ** -0.2
    assert kde.bandwidth == pytest.approx([bandwidth])
    # scipy's kernel standard deviation is bw_method * the sample standard deviation (ddof 1)
    reference = scipy.stats.gaussian_kde(data[:, 0], bw_method=bandwidth / data[:, 0].std(ddof=1))
    points = np.array([[-0.2], [0.0], [0.33], [0.9], [1.4]])
    assert np.exp(kde.log_density(points)) == pytest.approx(reference(points[:, 0]), rel=1e-9)


def test_the_mixed_density_is_a_product_of_gaussian_and_aitchison_aitken_kernels() -> None:
    rng = np.random.default_rng(1)
    n = 12
    # dimension 0 continuous in [0, 1], dimension 1 a categorical of 3 choices, dimension 2 continuous
    data = np.c_[rng.random(n), np.arange(n) % 3, rng.random(n)]
    n_choices = np.array([0, 3, 0])
    kde = _KDE(data, n_choices, min_bandwidth=1e-3)
    h = 1.06 * data.std(axis=0) * n ** (-1 / 7)  # the normal reference rule in d = 3 dimensions
    h[1] = min(h[1], 2 / 3)  # the chance to leave a category is at most uniform: (c - 1) / c
    assert kde.bandwidth == pytest.approx(h)

    def by_hand(x: np.ndarray) -> float:
        total = 0.0
        for row in data:
            gauss = [scipy.stats.norm.pdf(x[j], loc=row[j], scale=h[j]) for j in (0, 2)]
            aitchison = 1 - h[1] if x[1] == row[1] else h[1] / (3 - 1)
            total += gauss[0] * aitchison * gauss[1]
        return total / n

    points = np.array([[0.5, 0, 0.5], [0.1, 2, 0.8], [0.95, 1, 0.05]])
    assert np.exp(kde.log_density(points)) == pytest.approx([by_hand(x) for x in points], rel=1e-9)


def test_the_mixed_density_is_bohbs_statsmodels_estimator() -> None:
    """BOHB fits statsmodels' KDEMultivariate (var_type "c" and "u"); with the same bandwidths it must agree."""
    statsmodels_kde = pytest.importorskip("statsmodels.nonparametric.kernel_density")
    rng = np.random.default_rng(2)
    # one category dominates, so that no bandwidth reaches our clamp at (c - 1) / c (statsmodels has none)
    data = np.c_[rng.random(15), [0] * 11 + [1, 2, 3, 1], rng.random(15)]
    kde = _KDE(data, np.array([0, 4, 0]), min_bandwidth=1e-3)
    reference = statsmodels_kde.KDEMultivariate(data, var_type="cuc", bw="normal_reference")
    assert kde.bandwidth == pytest.approx(reference.bw)
    points = np.array([[0.2, 3, 0.7], [0.6, 0, 0.1], [0.4, 1, 0.4]])
    assert np.exp(kde.log_density(points)) == pytest.approx(reference.pdf(points), rel=1e-9)


def test_first_bracket_promotes_exactly_the_planned_best() -> None:
    task = ToyTask(fidelity=Fidelity("epochs", 1, 27))
    baseline = MOBOHB(task.space, task.objectives, task.fidelity, seed=0)
    rung: list[tuple[dict, np.ndarray]] = []
    for _ in range(27):
        trial = baseline.ask()
        assert trial.fidelity == 1.0
        result = task.evaluate(trial.config, trial.fidelity, seed=0)
        baseline.tell(trial, result)
        rung.append((trial.config, task.normalise(np.array([list(result.objectives.values())]))[0]))
    promoted = [baseline.ask() for _ in range(9)]
    assert {t.fidelity for t in promoted} == {3.0}
    best = select_best(np.array([p for _, p in rung]), 9, np.array([1.1, 1.1]))
    assert [t.config for t in promoted] == [rung[i][0] for i in sorted(best)]
    # with the rung still running, the next ask opens the next bracket (at 3 epochs, 12 configurations)
    assert baseline.ask().fidelity == 3.0 and len(baseline._schedule.brackets) == 2


def test_failed_evaluations_are_not_promoted() -> None:
    task = ToyTask(fidelity=Fidelity("epochs", 1, 9))  # budgets 1, 3, 9: first bracket 9 -> 3 -> 1
    baseline = MOBOHB(task.space, task.objectives, task.fidelity, seed=1)
    trials = [baseline.ask() for _ in range(9)]
    for i, trial in enumerate(trials):
        result = Result.failure("boom") if i < 7 else task.evaluate(trial.config, trial.fidelity, 0)
        baseline.tell(trial, result)
    promoted = [baseline.ask() for _ in range(2)]
    assert [t.config for t in promoted] == [trials[7].config, trials[8].config]
    assert promoted[0].fidelity == 3.0


def test_budgets_snap_to_tabulated_levels_and_integers() -> None:
    task = ToyTask(fidelity=Fidelity("epochs", 1, 25))
    assert MOBOHB(task.space, task.objectives, task.fidelity, 0)._budgets == [3.0, 8.0, 25.0]
    levels = Fidelity("epochs", 1, 200, values=(1, 4, 12, 50, 200))
    # 200 * 3**-i = 2.5, 7.4, 22.2, 66.7, 200: each to its nearest level
    assert MOBOHB(task.space, task.objectives, levels, 0)._budgets == [1.0, 4.0, 12.0, 50.0, 200.0]


def test_without_a_fidelity_it_is_a_multi_objective_tpe_at_full_budget() -> None:
    task = make_task("fcnet-naval")
    baseline = MOBOHB(task.space, task.objectives, None, seed=0, random_fraction=0.0)
    assert baseline.multi_fidelity is False
    configs = []
    for i in range(60):
        trial = baseline.ask()
        assert trial.fidelity is None
        baseline.tell(trial, task.evaluate(trial.config, None, i))
        configs.append(trial.config)
    # past min_points_in_model + 2 observations the model proposes: it concentrates on what it has seen
    later = configs[30:]
    assert len({str(c) for c in later}) < len(later)
    with pytest.raises(ValueError, match="min_budget"):
        MOBOHB(task.space, task.objectives, None, 0, min_budget=1)


@pytest.mark.parametrize("options", [{"eta": 1}, {"gamma": 1.0}, {"random_fraction": -0.1}, {"n_samples": 0},
                                     {"min_budget": 0.5}, {"min_budget": 30, "max_budget": 27},
                                     {"min_points_in_model": 0}])
def test_bad_options_say_what_was_given(options: dict) -> None:
    task = ToyTask(fidelity=Fidelity("epochs", 1, 27))
    with pytest.raises(ValueError, match="option"):
        MOBOHB(task.space, task.objectives, task.fidelity, 0, **options)


def test_model_beats_random_proposals_on_a_table() -> None:
    task = make_task("fcnet-naval")
    reference = np.array(task.reference_point)

    def final_hypervolume(random_fraction: float, seed: int) -> float:
        baseline = MOBOHB(task.space, task.objectives, None, seed, random_fraction=random_fraction)
        points = []
        for i in range(80):
            trial = baseline.ask()
            result = task.evaluate(trial.config, None, i)
            baseline.tell(trial, result)
            points.append(task.normalise(np.array([list(result.expected.values())]))[0])
        points_array = np.array(points)
        return float(moocore.hypervolume(points_array[np.all(points_array < reference, axis=1)], ref=reference))

    model = np.median([final_hypervolume(0.0, s) for s in range(3)])
    random = np.median([final_hypervolume(1.0, s) for s in range(3)])
    assert model > random
