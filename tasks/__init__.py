"""Joint architecture + hyperparameter tasks, found by name in ``TASKS`` (name -> factory).

Tabular tasks replay published tables; live tasks (added by their own modules) train for real.
Outside packages add tasks through the ``bag_of_baselines.tasks`` entry-point group.
"""

from __future__ import annotations

from typing import Callable

from tasks.base import Config, Fidelity, Objective, Result, Task, Trial
from tasks.registry import Registry
from tasks.device_tables import register_device_tasks
from tasks.live import register_live_tasks
from tasks.tabular import TABULAR_SOURCES, make_tabular_task

TASKS: Registry[Callable[[], Task]] = Registry("task", entry_point_group="bag_of_baselines.tasks")
register_task = TASKS.register

for _name in TABULAR_SOURCES:
    TASKS.add(_name, lambda name=_name: make_tabular_task(name))
register_live_tasks(TASKS.add)
register_device_tasks(TASKS.add)


def make_task(name: str) -> Task:
    """A fresh task object by registered name (raises ``UnknownNameError`` listing the names)."""
    return TASKS.get(name)()


__all__ = ["TASKS", "Config", "Fidelity", "Objective", "Result", "Task", "Trial", "make_task", "register_task"]
