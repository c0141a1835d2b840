"""What a run is: its budget and its spec (baseline, task, seed, budget, workers, options)."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

#: the most evaluations one run may have: far beyond any HPO benchmark, and a run of more rows
#: (hundreds of MB) is a typo, not an experiment
MAX_EVALUATIONS = 1_000_000
#: the longest clock one run may have: a year (of simulated time on a table, of wall time on a live task)
MAX_SECONDS = 366 * 24 * 3600.0


@dataclass(frozen=True)
class Budget:
    """Stop asking after ``evaluations`` trials or once the run's clock reaches ``seconds``, whichever
    comes first (either may be None, not both)."""

    evaluations: int | None = None
    seconds: float | None = None

    def __post_init__(self) -> None:
        if self.evaluations is None and self.seconds is None:
            raise ValueError("a budget needs evaluations or seconds")
        if self.evaluations is not None and not 1 <= self.evaluations <= MAX_EVALUATIONS:
            raise ValueError(f"budget: expected 1 to {MAX_EVALUATIONS:,} evaluations per run, "
                             f"got {self.evaluations:,}")
        # not "> 0" alone: inf would run for ever, nan compares false everywhere
        if self.seconds is not None and not (math.isfinite(self.seconds) and 0 < self.seconds <= MAX_SECONDS):
            raise ValueError(f"budget_seconds: expected a finite number of seconds > 0 and at most "
                             f"{MAX_SECONDS:.0f} (366 days) per run, got {self.seconds}")

    def allows(self, asked: int, now: float) -> bool:
        return (self.evaluations is None or asked < self.evaluations) and (self.seconds is None or now < self.seconds)

    def describe(self) -> str:
        """The budget in words, as the suite prints it in its plan."""
        parts = [f"{self.evaluations} evaluations"] if self.evaluations is not None else []
        if self.seconds is not None:
            parts.append(f"{self.seconds:g} s of the run's clock")
        return " or ".join(parts) + " per run" + (", whichever comes first" if len(parts) == 2 else "")


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
    #: the registered baseline the run builds; ``baseline`` is then its label (a variant with its own options,
    #: the name of its folder). Empty: ``baseline`` is the registered name
    registered: str = ""

    def __post_init__(self) -> None:
        if not self.registered:
            object.__setattr__(self, "registered", self.baseline)  # frozen: set once, here
