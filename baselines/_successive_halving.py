"""Successive halving shared by the multi-fidelity baselines: rung budgets, multi-objective orderings, and the
synchronous (Hyperband) and asynchronous (ASHA) schedules that hand out (configuration, budget) jobs.

Who uses what: ``mo_bohb`` runs ``Hyperband`` with its TPE proposing new configurations; ``mo_asha`` runs
``AsynchronousSuccessiveHalving`` with random configurations and ``nondominated_order`` (epsilon-net
tie-break); ``sh_emoa`` takes its stages from ``rung_budgets`` and its survivors from ``select_best``.
A schedule never samples a configuration itself: ``next_job`` takes a ``new_config`` callable, so a model
(TPE, a neural predictor) or plain random sampling fills the first rung.

Points are the baselines' normalised objective vectors (all minimised). Written here rather than taken from
a library: syne-tune's schedulers drive a trial backend of their own and hyperopt-style libraries (SMAC's
Hyperband, Optuna's pruners) decide per trial whether to stop training, while the suite's ask/tell contract
asks for new (configuration, fidelity) evaluations; the orderings wrap moocore's non-dominated sorting and
hypervolume contributions.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Callable

import moocore
import numpy as np

from tasks.base import Config, Fidelity

if TYPE_CHECKING:
    from baselines.base import Baseline

NewConfig = Callable[[], Config]


# --- budgets --------------------------------------------------------------------------------------------

def hyperband_budgets(low: float, high: float, eta: float) -> list[float]:
    """The rung budgets ``high * eta**-i`` from the smallest that is >= ``low`` up to ``high``."""
    s_max = int(math.floor(math.log(high / low) / math.log(eta) + 1e-9))
    return [high * eta ** -i for i in range(s_max, -1, -1)]


def hyperband_sizes(s: int, s_max: int, eta: float) -> list[int]:
    """The number of configurations at each rung of Hyperband's bracket ``s`` (of ``s_max + 1`` brackets):
    ``n = ceil((s_max + 1) / (s + 1) * eta**s)`` at the first rung, ``floor(n * eta**-i)`` at rung i
    (Li et al., JMLR 2018, Algorithm 1), and at least one."""
    n0 = int(math.ceil((s_max + 1) / (s + 1) * eta ** s))
    return [max(1, int(n0 * eta ** -i)) for i in range(s + 1)]


def snap_budget(fidelity: Fidelity, budget: float) -> float:
    """``budget`` on the fidelity's tabulated ``values`` (the nearest, the lower on a tie), else rounded to an
    integer when both ends of the fidelity are integers (epochs), else unchanged."""
    if fidelity.values is not None:
        return float(min(fidelity.values, key=lambda v: (abs(v - budget), v)))
    if float(fidelity.min).is_integer() and float(fidelity.max).is_integer():
        return float(round(budget))
    return float(budget)


def rung_budgets(fidelity: Fidelity | None, min_budget: float | None, max_budget: float | None,
                 eta: float) -> list[float | None]:
    """The snapped rung budgets from ``min_budget`` (default: the fidelity's minimum) to ``max_budget``
    (default: its maximum) with ratio ``eta``; ``[None]`` (one rung: the task's maximum) without a fidelity.

    ValueError with one line when the range is not inside the fidelity (the caller words it as an option error).
    """
    if fidelity is None:
        if min_budget is not None or max_budget is not None:
            raise ValueError("options min_budget/max_budget need a task with a fidelity; this task has none")
        return [None]
    low = fidelity.min if min_budget is None else min_budget
    high = fidelity.max if max_budget is None else max_budget
    if not fidelity.min <= low < high <= fidelity.max and not (low == high == fidelity.max):
        raise ValueError(f"options min_budget={low}, max_budget={high}: need "
                         f"{fidelity.min} <= min_budget < max_budget <= {fidelity.max}")
    snapped = [snap_budget(fidelity, b) for b in hyperband_budgets(low, high, eta)]
    return list(dict.fromkeys(snapped))  # snapping may merge neighbouring rungs


# --- multi-objective orderings ----------------------------------------------------------------------------

def reference_behind(points: np.ndarray) -> np.ndarray:
    """A reference point behind every observation (normalised objectives: 1.1 unless a value exceeds it)."""
    return np.maximum(1.1, points.max(axis=0) + 0.1)


def option_rung_budgets(baseline: Baseline) -> list[float | None]:
    """``rung_budgets`` from a baseline's options ``min_budget``, ``max_budget`` and ``eta``; a range outside the
    task's fidelity is an OptionError of that baseline."""
    options = baseline.options()
    try:
        return rung_budgets(baseline.fidelity, options["min_budget"], options["max_budget"], options["eta"])
    except ValueError as error:
        raise baseline.option_error(str(error)) from None


def select_best(points: np.ndarray, k: int, reference: np.ndarray) -> np.ndarray:
    """Indices of the ``k`` best rows of ``points`` (minimised): whole non-dominated fronts first, then
    the front that does not fit is thinned by removing, one at a time, the point of least hypervolume
    contribution (ties: the later row goes first), as in SMS-EMOA's reduction step."""
    ranks = moocore.pareto_rank(points)
    chosen: list[int] = []
    for rank in range(int(ranks.max()) + 1 if len(points) else 0):
        front = [int(i) for i in np.flatnonzero(ranks == rank)]
        if len(chosen) + len(front) <= k:
            chosen.extend(front)
            continue
        while len(chosen) + len(front) > k:
            contributions = moocore.hv_contributions(points[front], ref=reference)
            least = np.flatnonzero(contributions == contributions.min())
            front.pop(int(least[-1]))
        chosen.extend(front)
        break
    return np.array(chosen, dtype=int)


def epsilon_net_order(points: np.ndarray, count: int | None = None) -> np.ndarray:
    """Indices of ``points`` in farthest-first order: the point with the smallest first objective (the
    earliest row on a tie), then each time the point whose Euclidean distance to the nearest one already
    chosen is largest (the earliest row on a tie). Clarkson's epsilon-net, as used within a front by MO-ASHA
    (Salinas et al. 2021; Schmucker et al. 2021). Only the first ``count`` when given."""
    n = len(points) if count is None else min(count, len(points))
    if n == 0:
        return np.zeros(0, dtype=int)
    order = [int(np.argmin(points[:, 0]))]
    nearest = np.linalg.norm(points - points[order[0]], axis=1)
    nearest[order[0]] = -1.0
    for _ in range(n - 1):
        chosen = int(np.argmax(nearest))
        order.append(chosen)
        nearest = np.minimum(nearest, np.linalg.norm(points - points[chosen], axis=1))
        nearest[order] = -1.0
    return np.array(order, dtype=int)


def nondominated_order(points: np.ndarray, count: int | None = None) -> np.ndarray:
    """Indices of ``points`` best first: by non-dominated rank (moocore), inside a front by
    ``epsilon_net_order``; only the first ``count`` when given."""
    wanted = len(points) if count is None else min(count, len(points))
    if wanted == 0:
        return np.zeros(0, dtype=int)
    ranks = moocore.pareto_rank(points)
    order: list[int] = []
    for rank in range(int(ranks.max()) + 1):
        front = np.flatnonzero(ranks == rank)
        order.extend(int(i) for i in front[epsilon_net_order(points[front], wanted - len(order))])
        if len(order) == wanted:
            break
    return np.array(order, dtype=int)


# --- synchronous successive halving: Hyperband's brackets -------------------------------------------------

@dataclass
class Bracket:
    """One successive-halving run: ``sizes[r]`` configurations at ``budgets[r]``, best ones promoted."""

    budgets: list[float | None]
    sizes: list[int]
    rung: int = 0
    to_start: list[Config | None] = field(default_factory=list)  # None: a new configuration to sample
    running: int = 0
    finished: list[tuple[Config, np.ndarray | None]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.to_start = [None] * self.sizes[0]

    @property
    def done(self) -> bool:
        return self.rung >= len(self.sizes)


class Hyperband:
    """Hyperband's brackets over ``budgets`` (Li et al., JMLR 2018), run asynchronously as in BOHB.

    Brackets cycle from the most aggressive (all rungs) to the full-budget one. Inside a bracket, a rung is
    promoted once all its jobs are told: exactly the planned number, chosen by ``select_best`` (failed
    evaluations never; a rung with fewer successful ones than planned promotes all of them). When no job of
    the open brackets can start (their rung waits for results), a new bracket is opened (BOHB's parallel mode).
    """

    def __init__(self, budgets: list[float | None], eta: float) -> None:
        self.budgets = budgets
        self.eta = eta
        self.brackets: list[Bracket] = []
        self._next_bracket = 0
        self._jobs: dict[int, Bracket] = {}

    def next_job(self, trial_id: int, new_config: NewConfig) -> tuple[Config, float | None]:
        """The job of trial ``trial_id``: a promoted configuration, or ``new_config()`` at a bracket's first rung."""
        bracket = next((b for b in self.brackets if b.to_start), None)
        if bracket is None:
            bracket = self._open_bracket()
        config = bracket.to_start.pop(0)
        budget = bracket.budgets[bracket.rung]
        if config is None:
            config = new_config()
        bracket.running += 1
        self._jobs[trial_id] = bracket
        return config, budget

    def owns(self, trial_id: int) -> bool:
        """Whether ``trial_id`` is a job this schedule handed out and has not been told yet."""
        return trial_id in self._jobs

    def finished(self, trial_id: int, config: Config, point: np.ndarray | None) -> None:
        """Tell the schedule that job ``trial_id`` ended with the normalised ``point`` (None: it failed)."""
        bracket = self._jobs.pop(trial_id)
        bracket.running -= 1
        bracket.finished.append((config, point))
        if not bracket.to_start and bracket.running == 0:
            self._promote(bracket)

    def _open_bracket(self) -> Bracket:
        s_max = len(self.budgets) - 1
        s = s_max - self._next_bracket % (s_max + 1)
        self._next_bracket += 1
        bracket = Bracket(budgets=self.budgets[s_max - s:], sizes=hyperband_sizes(s, s_max, self.eta))
        self.brackets.append(bracket)
        return bracket

    def _promote(self, bracket: Bracket) -> None:
        ok = [(config, point) for config, point in bracket.finished if point is not None]
        bracket.rung += 1
        bracket.finished = []
        if bracket.done or not ok:
            self.brackets.remove(bracket)
            return
        points = np.array([point for _, point in ok])
        best = select_best(points, min(bracket.sizes[bracket.rung], len(ok)), reference_behind(points))
        bracket.to_start = [ok[i][0] for i in sorted(best)]


# --- asynchronous successive halving ----------------------------------------------------------------------

def config_key(config: Config) -> str:
    """One string per configuration (JSON with sorted keys), to recognise a configuration at another rung."""
    return json.dumps(config, sort_keys=True)


@dataclass
class Rung:
    """The successful results at one budget, in the order they were told, and which were promoted."""

    budget: float | None
    keys: list[str] = field(default_factory=list)
    configs: list[Config] = field(default_factory=list)
    points: list[np.ndarray] = field(default_factory=list)
    promoted: set[str] = field(default_factory=set)
    top: np.ndarray | None = None  # the best floor(n / eta), kept until a result is added


class AsynchronousSuccessiveHalving:
    """ASHA (Li, Jamieson, Rostamizadeh, Gonen, Hardt, Recht and Talwalkar, "A System for Massively Parallel
    Hyperparameter Tuning", MLSys 2020, Algorithm 2) with a multi-objective promotion order.

    One bracket of rungs over ``budgets``. Whenever a job is asked, the rungs are scanned from the top (the
    one below the largest budget) down: a configuration of rung k is promotable if it is among the best
    ``floor(n_k / eta)`` of the ``n_k`` successful results told at rung k (best by ``order(points, count)``,
    the first ``count`` indices best first) and not yet promoted; the best promotable one of the highest such
    rung goes to rung k + 1. If none, ``new_config()`` starts at the lowest rung. A promotion is booked when
    it is handed out, so pending jobs are never promoted twice; failed evaluations never enter a rung.
    """

    def __init__(self, budgets: list[float | None], eta: float,
                 order: Callable[[np.ndarray, int], np.ndarray] = nondominated_order) -> None:
        self.eta = eta
        self.order = order
        self.rungs = [Rung(budget) for budget in budgets]
        self._jobs: dict[int, int] = {}  # trial id -> rung index

    def next_job(self, trial_id: int, new_config: NewConfig) -> tuple[Config, float | None]:
        """The job of trial ``trial_id``: the highest promotion available, else ``new_config()`` at rung 0."""
        for k in range(len(self.rungs) - 2, -1, -1):
            rung = self.rungs[k]
            n_top = int(len(rung.points) / self.eta + 1e-9)
            if n_top == 0:
                continue
            if rung.top is None:  # the order changes only when the rung grows
                rung.top = self.order(np.array(rung.points), n_top)
            for i in rung.top:
                if rung.keys[i] not in rung.promoted:
                    rung.promoted.add(rung.keys[i])
                    self._jobs[trial_id] = k + 1
                    return rung.configs[i], self.rungs[k + 1].budget
        self._jobs[trial_id] = 0
        return new_config(), self.rungs[0].budget

    def finished(self, trial_id: int | None, config: Config, budget: float | None, point: np.ndarray | None) -> None:
        """Record a result at ``budget``; ``trial_id`` None for a replayed one (placed by its budget, if that is
        a rung's; a configuration seen at a higher rung counts as promoted from the lower ones)."""
        if trial_id is not None:
            k = self._jobs.pop(trial_id)
        else:
            k = next((i for i, rung in enumerate(self.rungs) if rung.budget == budget), -1)
            if k < 0:
                return
        key = config_key(config)
        for lower in self.rungs[:k]:
            lower.promoted.add(key)
        if point is not None:
            rung = self.rungs[k]
            rung.keys.append(key)
            rung.configs.append(config)
            rung.points.append(point)
            rung.top = None
