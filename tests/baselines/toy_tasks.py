"""Small tasks for testing baselines: a conditional mixed space, failures on purpose, and fidelities."""

from __future__ import annotations

import math

import numpy as np
from ConfigSpace import (
    AndConjunction,
    Categorical,
    ConfigurationSpace,
    Constant,
    EqualsCondition,
    Float,
    GreaterThanCondition,
    InCondition,
    Integer,
    OrdinalHyperparameter,
)

from tasks import make_task
from tasks.base import Config, Fidelity, Objective, Result, Task


def conditional_space() -> ConfigurationSpace:
    """Every hyperparameter type the baselines must handle, with a nested condition."""
    space = ConfigurationSpace(name="toy")
    x = Float("x", (1e-3, 1.0), log=True)
    n = Integer("n", (1, 64), log=True)
    k = OrdinalHyperparameter("k", [1, 2, 4, 8])
    kind = Categorical("kind", ["a", "b", "c"])
    y = Float("y", (0.0, 1.0))
    m = Integer("m", (0, 10))
    w = Float("w", (-1.0, 1.0))
    const = Constant("const", "fixed")
    space.add([x, n, k, kind, y, m, w, const])
    space.add([
        EqualsCondition(y, kind, "a"),
        InCondition(m, kind, ["b", "c"]),
        # w needs kind == "b" and m > 5: a condition on a parameter that is itself conditional
        AndConjunction(EqualsCondition(w, kind, "b"), GreaterThanCondition(w, m, 5)),
    ])
    return space


class ToyTask(Task):
    """Two analytic objectives over ``conditional_space``; optionally a fidelity and deliberate failures.

    With ``failures=True`` the evaluation raises for x < 0.01 and returns NaN for n > 48.
    A lower fidelity adds a bias that shrinks as the fidelity grows and is larger for larger ``n`` (so
    low fidelities rank configurations differently), and costs proportionally less.
    """

    def __init__(self, fidelity: Fidelity | None = None, failures: bool = False) -> None:
        self.name = "toy"
        self.version = "1"
        self.space = conditional_space()
        self.objectives = (Objective("f1", 0.0, 4.0), Objective("f2", 0.0, 4.0))
        self.fidelity = fidelity
        self.reference_point = (1.1, 1.1)
        self.failures = failures

    def _evaluate(self, config: Config, fidelity: float | None, seed: int) -> Result:
        if self.failures and config["x"] < 0.01:
            raise RuntimeError("deliberate failure")
        u = (math.log10(config["x"]) + 3) / 3  # in [0, 1]
        extra = {"a": config.get("y", 0.0), "b": 0.1 * config.get("m", 0) + abs(config.get("w", 0.0)),
                 "c": 0.5 + 0.05 * config.get("m", 0)}[config["kind"]]
        g = 1 + extra + 0.1 * math.log2(config["k"]) + 0.01 * abs(config["n"] - 8)
        f1, f2 = u * g, (1 - math.sqrt(u)) * g
        if self.failures and config["n"] > 48:
            f2 = math.nan
        scale = 1.0
        if self.fidelity is not None:
            level = self.fidelity.max if fidelity is None else fidelity
            # larger networks (n) learn more slowly: low fidelities favour small ones, as real curves do
            bias = (1 - level / self.fidelity.max) * (0.2 + 0.1 * math.log2(config["n"]))
            f1, f2 = f1 + bias, f2 + bias
            scale = level / self.fidelity.max
        noise = np.random.default_rng(seed).normal(0, 0.01, size=2)
        return Result(objectives={"f1": f1 + noise[0], "f2": f2 + noise[1]}, cost_s=10.0 * scale,
                      expected={"f1": f1, "f2": f2})


class FidelityTabularTask(Task):
    """A tabular task given a fidelity: lower levels return the same table values at a fraction of the cost.

    Only for testing that baselines keep fidelities in range and run on tabular data; it is no model
    of learning curves.
    """

    def __init__(self, name: str = "fcnet-naval", levels: tuple[float, ...] = (1, 3, 9, 27, 81)) -> None:
        self._table_task = make_task(name)
        self.name = f"{name}-fidelity"
        self.version = "test"
        self.space = self._table_task.space
        self.objectives = self._table_task.objectives
        self.fidelity = Fidelity("epochs", min(levels), max(levels), values=tuple(float(v) for v in levels))
        self.reference_point = self._table_task.reference_point

    def _evaluate(self, config: Config, fidelity: float | None, seed: int) -> Result:
        result = self._table_task.evaluate(config, None, seed)
        assert self.fidelity is not None
        result.cost_s *= (self.fidelity.max if fidelity is None else fidelity) / self.fidelity.max
        return result
