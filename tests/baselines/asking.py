"""Driving a baseline the way asynchronous workers do, for tests that compare the trials of two versions."""

from __future__ import annotations

from baselines.base import Baseline
from suite.loops import evaluation_seed
from tasks.base import Config, Result, Task


def asked_configs(baseline: Baseline, task: Task, seed: int, n: int, pending: int) -> list[Config]:
    """The configurations of ``n`` trials, asked ``pending`` at a time and told in the order asked (a failing
    evaluation is told as a failure)."""
    out: list[Config] = []
    asked = []
    for i in range(n):
        asked.append(baseline.ask())
        if len(asked) == pending or i == n - 1:
            for trial in asked:
                out.append(trial.config)
                try:
                    result = task.evaluate(trial.config, trial.fidelity, evaluation_seed(seed, trial.id))
                except RuntimeError as error:  # ToyTask(failures=True) raises for small x
                    result = Result.failure(str(error))
                baseline.tell(trial, result)
            asked = []
    return out
