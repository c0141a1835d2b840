"""A small wall-clock task for the cluster tests: real CPU work, plus evaluations that raise, return NaN
or hang, chosen by the configuration. Importing it registers nothing (see cluster_toy_plugin.py)."""

from __future__ import annotations

import math
import os
import time

from ConfigSpace import CategoricalHyperparameter, ConfigurationSpace, UniformFloatHyperparameter

from tasks.base import Config, Objective, Result, Task

BEHAVIOURS = ("ok", "raise", "nan", "hang")


def _where() -> str:
    """The Dask worker's address when on one, else "local": the tests check where evaluations ran."""
    try:
        from distributed import get_worker

        return get_worker().address
    except ValueError:
        return "local"


class ToyLiveTask(Task):
    """Minimise (x, 1 - x) after ``BOB_TOY_WORK_S`` seconds of CPU work; "hang" sleeps ``BOB_TOY_HANG_S``."""

    name = "toy-live"
    version = "1"
    clock = "wall"
    reference_point = (1.1, 1.1)

    def __init__(self) -> None:
        self.space = ConfigurationSpace(seed=0)
        self.space.add(CategoricalHyperparameter("behaviour", list(BEHAVIOURS)))
        self.space.add(UniformFloatHyperparameter("x", 0.0, 1.0))
        self.objectives = (Objective("f1", 0.0, 1.0), Objective("f2", 0.0, 1.0))

    def _evaluate(self, config: Config, fidelity: float | None, seed: int) -> Result:
        began = time.time()  # epoch seconds, comparable across runs and processes on one machine
        started = time.perf_counter()
        if config["behaviour"] == "raise":
            raise RuntimeError("toy evaluation diverged")
        if config["behaviour"] == "hang":
            time.sleep(float(os.environ.get("BOB_TOY_HANG_S", "3")))
        work_s = float(os.environ.get("BOB_TOY_WORK_S", "0.05"))
        total = 0.0
        while time.perf_counter() - started < work_s:
            total += sum(math.sqrt(i) for i in range(1000))
        x = float(config["x"])
        f2 = math.nan if config["behaviour"] == "nan" else 1.0 - x
        return Result({"f1": x, "f2": f2}, cost_s=time.perf_counter() - started,
                      info={"where": _where(), "pid": os.getpid(), "began": began, "ended": time.time()})
