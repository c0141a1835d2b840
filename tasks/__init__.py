"""Joint architecture + hyperparameter tasks, found by name in ``TASKS`` (name -> factory).

Table tasks replay tables (published ones, the measured ``cnn-digits-mf``, NB201 device joins users bring:
``tasks.tables``); live tasks train for real (``tasks.live``); surrogate tasks ask a model (``tasks.surrogates``:
LCBench, registered when ``BOB_LCBENCH_DIR`` is set).
Outside packages add tasks through the ``bag_of_baselines.tasks`` entry-point group.
"""

from __future__ import annotations

from typing import Callable

from tasks.base import Config, Fidelity, Objective, Result, Task, Trial
from tasks.registry import Registry
from tasks.live import register_live_tasks
from tasks.surrogates import register_surrogate_tasks
from tasks.tables.recipes import shipped_recipes
from tasks.tables.recipes.devices import register_device_tasks

TASKS: Registry[Callable[[], Task]] = Registry("task", entry_point_group="bag_of_baselines.tasks")
register_task = TASKS.register


def _shipped_task(name: str) -> Task:
    # imported here so that ``python -m tasks.tables.reference`` finds its module not yet imported
    from tasks.tables.reference import shipped_task

    return shipped_task(name)


for _name in shipped_recipes():
    TASKS.add(_name, lambda name=_name: _shipped_task(name))
register_live_tasks(TASKS.add)
register_device_tasks(TASKS.add)
register_surrogate_tasks(TASKS.add)


def make_task(name: str) -> Task:
    """A fresh task object by registered name (raises ``UnknownNameError`` listing the names)."""
    return TASKS.get(name)()


__all__ = ["TASKS", "Config", "Fidelity", "Objective", "Result", "Task", "Trial", "make_task", "register_task"]
