"""Surrogate tasks: a model stands in for training, the same ``Task`` contract as a table.

- ``tasks.surrogates.lcbench``: YAHPO Gym 1.0.2's LCBench surrogate (an ONNX model of Auto-PyTorch learning
  curves on 34 OpenML tasks, epochs 1..52), read with onnxruntime from a folder users bring
  (``BOB_LCBENCH_DIR``); tasks ``lcbench-<OpenML task id>``.

Importing this package is cheap: ``register_surrogate_tasks`` reads no model and imports no onnxruntime
(``tasks.surrogates.lcbench`` imports it at the first evaluation).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

from tasks.surrogates.lcbench import LCBENCH_ENV, LCBENCH_INSTANCES, LCBenchTask, configured_folder


def make_lcbench_task(instance: str, **options: Any) -> LCBenchTask:
    """An ``LCBenchTask`` on OpenML task ``instance`` (options as in ``tasks.surrogates.lcbench.LCBenchTask``)."""
    return LCBenchTask(instance, **options)


def register_surrogate_tasks(add: Callable[[str, Callable[[], Any]], None]) -> None:
    """Register ``lcbench-<id>`` through ``add(name, factory)`` when ``BOB_LCBENCH_DIR`` names a folder."""
    folder = configured_folder()
    if folder and Path(folder).is_dir():
        for instance in LCBENCH_INSTANCES:
            add(f"lcbench-{instance}", lambda i=instance: make_lcbench_task(i))


__all__ = ["LCBENCH_ENV", "LCBENCH_INSTANCES", "configured_folder", "make_lcbench_task", "register_surrogate_tasks"]
