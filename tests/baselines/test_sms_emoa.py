"""SMS-EMOA's survival removes, from the worst front, the member of least hypervolume contribution: checked
against contributions computed as differences of whole hypervolumes and a dominance check written here."""

from __future__ import annotations

import copy

import moocore
import numpy as np

from baselines.sms_emoa import REFERENCE_OFFSET, SMSEMOA, least_contributor
from tasks import make_task
from tasks.base import Result, Trial, to_python


def expected_removal(points: np.ndarray, reference: np.ndarray) -> int:
    """The worst front by repeated peeling (a plain dominance check), then HV(front) - HV(front without i)."""
    remaining = list(range(len(points)))
    while True:
        front = [i for i in remaining
                 if not any(np.all(points[j] <= points[i]) and np.any(points[j] < points[i]) for j in remaining)]
        if len(front) == len(remaining):
            break
        remaining = [i for i in remaining if i not in front]
    worst = remaining
    if len(worst) == 1:
        return worst[0]
    whole = moocore.hypervolume(points[worst], ref=reference)
    contributions = [whole - moocore.hypervolume(points[[j for j in worst if j != i]], ref=reference) for i in worst]
    least = min(contributions)
    # exact ties only: the later row, as the survival rule says
    return [i for i, c in zip(worst, contributions) if np.isclose(c, least, rtol=0, atol=1e-12)][-1]


def test_least_contributor_matches_whole_hypervolume_differences() -> None:
    rng = np.random.default_rng(0)
    for trial in range(300):
        objectives = 2 + trial % 2  # 2 and 3 objectives
        points = rng.random((int(rng.integers(2, 12)), objectives))
        if trial % 3 == 0:  # a single front (only contributions decide)
            points[:, -1] = 1 - points[:, :-1].sum(axis=1) / (objectives - 1)
        reference = points.max(axis=0) + REFERENCE_OFFSET
        assert least_contributor(points, reference) == expected_removal(points, reference), points


def test_the_baseline_removes_the_least_contributor_when_the_population_overflows() -> None:
    task = make_task("fcnet-naval")
    names = [o.name for o in task.objectives]
    lower = np.array([o.lower for o in task.objectives])
    span = np.array([o.upper - o.lower for o in task.objectives])
    baseline = SMSEMOA(task.space, task.objectives, task.fidelity, seed=0, population_size=4)
    space = copy.deepcopy(task.space)
    space.seed(3)
    configs = [to_python(c) for c in space.sample_configuration(5)]
    # one front of five; member 2 sits close to member 1, so it adds the least
    normalised = np.array([[0.1, 0.9], [0.3, 0.5], [0.32, 0.49], [0.6, 0.3], [0.9, 0.1]])
    for i, (config, point) in enumerate(zip(configs, normalised)):
        baseline.tell(Trial(id=i, config=config), Result(objectives=dict(zip(names, lower + point * span)), cost_s=1.0))
    expected = expected_removal(normalised, normalised.max(axis=0) + REFERENCE_OFFSET)
    assert expected == 2
    assert [member[0] for member in baseline.population] == [c for i, c in enumerate(configs) if i != expected]
    # a dominated newcomer is the worst front alone: it leaves at once
    baseline.tell(Trial(id=5, config=configs[2]), Result(objectives=dict(zip(names, lower + 0.95 * span)), cost_s=1.0))
    assert len(baseline.population) == 4 and configs[2] not in [member[0] for member in baseline.population]
    for _ in range(10):  # children of the full population are valid configurations of the table
        task.check_config(baseline.ask().config)
