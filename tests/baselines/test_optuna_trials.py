"""The Optuna baselines propose the same trials as before the translation was made cheaper.

The digests were printed by this module's ``trials`` with the code of commit e138619 (before the change of
``baselines/_optuna.is_active``), so a change to the translation that alters what a seed proposes fails here.
"""

from __future__ import annotations

import hashlib
import json

import pytest

from baselines import BASELINES
from tasks import make_task
from tasks.base import Task
from asking import asked_configs
from toy_tasks import ToyTask

BEFORE = {
    ("nsga2", "toy", 0): "420eb32b90838773beb920758c07a156e7ac234586b1ac194fb13e246d3b660e",
    ("nsga3", "toy", 0): "9d4d54dd8af2cafe1ff2916c3fdf74b94d7fc5b06f0cfee132d3146b62c6d4a6",
    ("motpe", "toy", 0): "682d30132f1ad40b49561058bab2d0e11308d82e5cbd028cb6420e63ae3a24e0",
    ("nsga2", "fcnet-naval", 1): "fdc028b8164bd657ac89e8cd2e92a8efecad428f2376c7dc04f868bae865cd55",
    ("nsga3", "fcnet-naval", 1): "b4a3f3a056e26d456398bbb17922af865a7755ae36e44f52d4980ff1a01fd2f3",
}


def trials(name: str, task: Task, seed: int, n: int = 40) -> str:
    """Digest of the configurations of ``n`` trials, asked three at a time (asynchronous workers), failures told."""
    baseline = BASELINES.get(name)(task.space, task.objectives, task.fidelity, seed)
    configs = asked_configs(baseline, task, seed, n, pending=3)
    return hashlib.sha256(json.dumps(configs, sort_keys=True).encode()).hexdigest()


@pytest.mark.parametrize("name, task_name, seed", sorted(BEFORE))
def test_same_trials_as_before_the_cheaper_translation(name: str, task_name: str, seed: int) -> None:
    # the toy space has every parameter type, nested conditions, a constant and failing evaluations
    task = ToyTask(failures=True) if task_name == "toy" else make_task(task_name)
    assert trials(name, task, seed) == BEFORE[name, task_name, seed]
