"""A small real results folder, made once per session with the suite's own runner."""

from __future__ import annotations

from pathlib import Path

import pytest

TASKS = ("fcnet-naval", "nb201-cifar10")  # one 2-objective and one 3-objective table
BASELINES = ("random_search", "nsga2")
SEEDS = (0, 1, 2)
EVALUATIONS = 40


@pytest.fixture(scope="session")
def experiment(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from suite.lifecycle import execute
    from suite.spec import Budget, RunSpec

    root = tmp_path_factory.mktemp("results")
    for task in TASKS:
        for baseline in BASELINES:
            for seed in SEEDS:
                spec = RunSpec(baseline, task, seed, Budget(evaluations=EVALUATIONS), n_workers=2, experiment="small")
                execute(spec, root)
    return root / "small"


@pytest.fixture(scope="session")
def layout() -> dict[str, tuple]:
    """What ``experiment`` holds."""
    return {"tasks": TASKS, "baselines": BASELINES, "seeds": SEEDS, "evaluations": EVALUATIONS}


@pytest.fixture(scope="session")
def small_results(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A results root made by the suite: experiment "one" (fcnet-naval, random_search and nsga2, seeds 0-2,
    8 evaluations); and for mixtures, random_search seeds 3 and 4 of "one" with 12 evaluations in
    ``other_budget/one`` and seeds 0 and 1 of experiment "two" with 12 evaluations."""
    from suite.lifecycle import execute
    from suite.spec import Budget, RunSpec

    root = tmp_path_factory.mktemp("small_results")
    for baseline in ("random_search", "nsga2"):
        for seed in (0, 1, 2):
            execute(RunSpec(baseline, "fcnet-naval", seed, Budget(evaluations=8), experiment="one"), root)
    for seed in (3, 4):
        execute(RunSpec("random_search", "fcnet-naval", seed, Budget(evaluations=12), experiment="one"),
                root / "other_budget")
    for seed in (0, 1):
        execute(RunSpec("random_search", "fcnet-naval", seed, Budget(evaluations=12), experiment="two"), root)
    return root
