"""Live joint NAS+HPO tasks: real CNN training with measured latency and energy.

Importing this package is cheap (torch loads when a task is built): ``register_live_tasks`` adds

- ``cnn-digits``, ``cnn-fashion-mnist``, ``cnn-flowers17``: error, log10 parameters, latency (ms);
- ``cnn-digits-energy`` and the like: the same plus energy (mJ) per inference; built only where a meter exists.

The multi-fidelity table these tasks were measured into (``cnn-digits-mf``) is a table task like any
other: ``tasks.tables.recipes.measured``.
"""

from __future__ import annotations

from typing import Any, Callable

LIVE_DATASETS = ("digits", "fashion-mnist", "flowers17")


def make_cnn_task(dataset: str, **options: Any) -> Any:
    """A ``CNNTask`` on ``dataset`` (options as in ``tasks.live.task.CNNTask``)."""
    from tasks.live.task import CNNTask

    return CNNTask(dataset, **options)


def register_live_tasks(add: Callable[[str, Callable[[], Any]], None]) -> None:
    """Register the live tasks through ``add(name, factory)`` (``TASKS.add``)."""
    for dataset in LIVE_DATASETS:
        add(f"cnn-{dataset}", lambda d=dataset: make_cnn_task(d))
        add(f"cnn-{dataset}-energy", lambda d=dataset: make_cnn_task(d, energy_objective=True))
