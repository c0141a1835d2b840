"""Live joint NAS+HPO tasks: real CNN training with measured latency and energy.

Importing this package is cheap (torch loads when a task is built): ``register_live_tasks`` adds

- ``cnn-digits``, ``cnn-fashion-mnist``, ``cnn-flowers17``: error, log10 parameters, latency (ms);
- ``cnn-digits-energy`` and the like: the same plus energy (mJ) per inference; built only where a meter exists;
- ``paper-flowers17``, ``paper-fashion-mnist``: the paper's exact protocol (``tasks.live.paper``), and
  ``paper-flowers17-demo``, ``paper-fashion-mnist-demo``: the same objectives and reference point with fewer
  epochs and narrower widths, a demonstration that fits on two CPU cores.

The multi-fidelity table these tasks were measured into (``cnn-digits-mf``) is a table task like any
other: ``tasks.tables.recipes.measured``.
"""

from __future__ import annotations

from typing import Any, Callable

LIVE_DATASETS = ("digits", "fashion-mnist", "flowers17")
#: the data sets of the paper's experiment
PAPER_DATASETS = ("flowers17", "fashion-mnist")


def make_cnn_task(dataset: str, **options: Any) -> Any:
    """A ``CNNTask`` on ``dataset`` (options as in ``tasks.live.task.CNNTask``)."""
    from tasks.live.task import CNNTask

    return CNNTask(dataset, **options)


def make_paper_task(dataset: str, **options: Any) -> Any:
    """A ``PaperCNNTask`` on ``dataset`` (options as in ``tasks.live.paper.PaperCNNTask``)."""
    from tasks.live.paper import PaperCNNTask

    return PaperCNNTask(dataset, **options)


def register_live_tasks(add: Callable[[str, Callable[[], Any]], None]) -> None:
    """Register the live tasks through ``add(name, factory)`` (``TASKS.add``)."""
    for dataset in LIVE_DATASETS:
        add(f"cnn-{dataset}", lambda d=dataset: make_cnn_task(d))
        add(f"cnn-{dataset}-energy", lambda d=dataset: make_cnn_task(d, energy_objective=True))
    for dataset in PAPER_DATASETS:
        add(f"paper-{dataset}", lambda d=dataset: make_paper_task(d))
        add(f"paper-{dataset}-demo", lambda d=dataset: make_paper_task(d, demo=True))
