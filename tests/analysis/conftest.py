"""A small real results folder, made once per session with the suite's own runner."""

from __future__ import annotations

from pathlib import Path

import pytest

TASKS = ("fcnet-naval", "nb201-cifar10")  # one 2-objective and one 3-objective table
SEEDS = (0, 1, 2)


@pytest.fixture(scope="session")
def experiment(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from suite.runner import Budget, RunSpec, execute

    root = tmp_path_factory.mktemp("results")
    for task in TASKS:
        for seed in SEEDS:
            execute(RunSpec("random_search", task, seed, Budget(evaluations=40), n_workers=2, experiment="small"), root)
    return root / "small"
