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
