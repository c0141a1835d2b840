"""What a run is: its budget and its spec (baseline, task, seed, budget, workers, options)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Budget:
    """Stop asking after ``evaluations`` trials, or once the run's clock reaches ``seconds``."""

    evaluations: int | None = None
    seconds: float | None = None

    def __post_init__(self) -> None:
        if self.evaluations is None and self.seconds is None:
            raise ValueError("a budget needs evaluations or seconds")
        if self.evaluations is not None and self.evaluations < 1:
            raise ValueError(f"budget evaluations must be >= 1, got {self.evaluations}")
        if self.seconds is not None and not self.seconds > 0:
            raise ValueError(f"budget seconds must be > 0, got {self.seconds}")

    def allows(self, asked: int, now: float) -> bool:
        return (self.evaluations is None or asked < self.evaluations) and (self.seconds is None or now < self.seconds)


@dataclass(frozen=True)
class RunSpec:
    """Everything that defines one run; its folder is derived from it."""

    baseline: str
    task: str
    seed: int
    budget: Budget
    n_workers: int = 1
    options: dict[str, Any] = field(default_factory=dict)
    experiment: str = "default"
    #: wall clock only: an evaluation running longer is recorded with status "timeout"
    eval_timeout_s: float | None = None
    #: wall clock only: Dask worker resources each evaluation holds, e.g. {"GPU": 1}
    resources: dict[str, float] = field(default_factory=dict)
