"""MO-BOHB: Hyperband over the task's fidelity with a multi-objective TPE model proposing new configurations."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import moocore
import numpy as np
from ConfigSpace import CategoricalHyperparameter, Configuration, ConfigurationSpace, Constant, OrdinalHyperparameter
from ConfigSpace.util import deactivate_inactive_hyperparameters

from baselines.base import Baseline, Option, Proposal, register
from tasks.base import Config, Fidelity, Objective, Result, Trial, to_python


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


@dataclass
class _Bracket:
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


class _KDE:
    """A product-kernel density over ConfigSpace vectors (BOHB's model, Falkner et al. 2018).

    Continuous dimensions (floats, integers, ordinals, all scaled to [0, 1]) get a Gaussian kernel,
    categorical ones an Aitchison-Aitken kernel; bandwidths follow the normal reference rule.
    """

    def __init__(self, data: np.ndarray, n_choices: np.ndarray, min_bandwidth: float) -> None:
        self.data = data
        self.n_choices = n_choices
        n, d = data.shape
        bandwidth = 1.06 * data.std(axis=0) * n ** (-1.0 / (d + 4))
        self.bandwidth = np.maximum(bandwidth, min_bandwidth)
        categorical = n_choices > 0
        # the probability of leaving a category is at most uniform: (c - 1) / c
        self.bandwidth[categorical] = np.minimum(self.bandwidth[categorical],
                                                 (n_choices[categorical] - 1) / np.maximum(n_choices[categorical], 1))

    def log_density(self, x: np.ndarray) -> np.ndarray:
        """log p(x) for each row of ``x`` (m, d)."""
        diff = x[:, None, :] - self.data[None, :, :]
        categorical = self.n_choices > 0
        # each kernel is computed on every dimension and the right one kept: give each a safe bandwidth
        bw = np.where(categorical, 1.0, self.bandwidth)
        gauss = -0.5 * (diff / bw) ** 2 - np.log(bw * math.sqrt(2 * math.pi))
        lam = np.where(categorical, self.bandwidth, 0.0)
        c = np.maximum(self.n_choices, 2)
        same = np.isclose(diff, 0.0)
        aitchison = np.where(same, np.log1p(-lam), np.log(np.maximum(lam / (c - 1), 1e-300)))
        kernel = np.where(categorical, aitchison, gauss).sum(axis=2)
        return np.logaddexp.reduce(kernel, axis=1) - math.log(len(self.data))

    def sample(self, rng: np.random.Generator, count: int, bandwidth_factor: float) -> np.ndarray:
        """Perturbations of random data points: truncated Gaussian steps, random category changes."""
        centres = self.data[rng.integers(len(self.data), size=count)]
        samples = centres.copy()
        for j, choices in enumerate(self.n_choices):
            if choices > 0:
                change = rng.random(count) < self.bandwidth[j]
                samples[change, j] = rng.integers(int(choices), size=int(change.sum()))
            else:
                step = rng.normal(0.0, self.bandwidth[j] * bandwidth_factor, size=count)
                samples[:, j] = _reflect(centres[:, j] + step)
        return samples


def _reflect(x: np.ndarray) -> np.ndarray:
    """Fold values back into [0, 1] (a cheap truncated Gaussian)."""
    x = np.abs(x) % 2.0
    return np.where(x > 1.0, 2.0 - x, x)


@register("mo_bohb")
class MOBOHB(Baseline):
    """MO-BOHB: BOHB's Hyperband schedule with a multi-objective TPE that proposes new configurations.

    As in Guerrero-Viu, Hauns, Izquierdo, Miotto, Schrodi, Biedenkapp, Elsken, Deng, Lindauer and
    Hutter, "Bag of Baselines for Multi-objective Joint Neural Architecture Search and
    Hyperparameter Optimization", ICML 2021 AutoML workshop, built on BOHB (Falkner, Klein and
    Hutter, "BOHB: Robust and Efficient Hyperparameter Optimization at Scale", ICML 2018) and MOTPE
    (Ozaki et al., GECCO 2020).

    - Hyperband brackets over the task's fidelity, from ``min_budget`` to ``max_budget`` with ratio
      ``eta``; inside a bracket, successive halving promotes exactly the planned number of
      configurations of a rung, chosen by non-dominated sorting and then greedy hypervolume
      contribution inside the front that does not fit (``select_best``). (The paper's code promotes
      the whole last front instead, so rungs grow past their plan.) Failed evaluations are never
      promoted; a rung with fewer successful ones than planned promotes all of them.
    - A new configuration is random with probability ``random_fraction``, and also while no budget
      has ``min_points_in_model + 2`` successful observations. Otherwise the observations of the
      largest budget that has enough are split by the same ordering: the best
      ``max(min_points_in_model, ceil(gamma * n))`` are good, the worst
      ``max(min_points_in_model, floor((1 - gamma) * n))`` bad (BOHB's rule; they overlap when few).
      A product-kernel density (own small implementation of BOHB's model, over ConfigSpace's
      vectors, so conditions and all types are handled by ConfigSpace) is fitted to each; of
      ``n_samples`` perturbations of good points the one with the highest ratio good/bad wins.
      Inactive parameters are imputed at random for the model, as in BOHB.
    - Asynchronous workers: when no job of the open brackets can start (their rung waits for
      results), a new bracket is opened, as in BOHB's parallel mode.
    - Budgets are snapped to the fidelity's tabulated ``values`` when it has them, else rounded to
      integers when both ends of the fidelity are integers (epochs).
    - A task WITHOUT a fidelity: there is one budget (the maximum), so every bracket is a single
      rung of one configuration and MO-BOHB is its multi-objective TPE with a random fraction; trials
      carry ``fidelity=None``, and the property ``multi_fidelity`` is False.
    - Resume: replayed trials feed the model at their fidelity; the Hyperband schedule starts anew.

    Args (options):
        eta: the halving ratio (default 3).
        min_budget, max_budget: the range of the brackets (default: the fidelity's min and max).
        gamma: the fraction of good observations (default 0.15, BOHB's top 15 %).
        random_fraction: the share of configurations drawn at random (default 1/3).
        n_samples: candidates drawn from the good density per proposal (default 64).
        bandwidth_factor: widening of the sampling bandwidth (default 3).
        min_bandwidth: smallest kernel bandwidth (default 1e-3).
        min_points_in_model: observations needed per model; default: number of parameters + 1.
    """

    OPTIONS = {
        "eta": Option.real(3.0, above=1),
        "min_budget": Option.real(None, above=0, none_means="the fidelity's minimum"),
        "max_budget": Option.real(None, above=0, none_means="the fidelity's maximum"),
        "gamma": Option.real(0.15, above=0, below=1),
        "random_fraction": Option.real(1 / 3, at_least=0, at_most=1),
        "n_samples": Option.integer(64, at_least=1),
        "bandwidth_factor": Option.real(3.0, above=0),
        "min_bandwidth": Option.real(1e-3, above=0, at_most=1),
        "min_points_in_model": Option.integer(None, at_least=1, none_means="number of parameters + 1"),
    }

    def __init__(
        self,
        space: ConfigurationSpace,
        objectives: tuple[Objective, ...],
        fidelity: Fidelity | None,
        seed: int,
        **options: Any,
    ) -> None:
        super().__init__(space, objectives, fidelity, seed, **options)
        min_budget, max_budget = self._options["min_budget"], self._options["max_budget"]
        if fidelity is None:
            if min_budget is not None or max_budget is not None:
                raise self.option_error("options min_budget/max_budget need a task with a fidelity; this task has none")
            self._budgets: list[float | None] = [None]
        else:
            low = fidelity.min if min_budget is None else min_budget
            high = fidelity.max if max_budget is None else max_budget
            if not fidelity.min <= low < high <= fidelity.max and not (low == high == fidelity.max):
                raise self.option_error(f"options min_budget={low}, max_budget={high}: need "
                                        f"{fidelity.min} <= min_budget < max_budget <= {fidelity.max}")
            snapped = [self._snap(b) for b in hyperband_budgets(low, high, self._options["eta"])]
            self._budgets = list(dict.fromkeys(snapped))  # snapping may merge neighbouring rungs
        if self._options["min_points_in_model"] is None:
            self._options["min_points_in_model"] = len(space) + 1
        hps = list(space.values())
        self._n_choices = np.array([len(hp.choices) if isinstance(hp, CategoricalHyperparameter)
                                    else 1 if isinstance(hp, Constant) else 0 for hp in hps])
        self._ordinal_sizes = np.array([len(hp.sequence) if isinstance(hp, OrdinalHyperparameter) else 0 for hp in hps])
        self._lower = np.array([o.lower for o in objectives])
        self._span = np.array([o.upper - o.lower for o in objectives])
        self._brackets: list[_Bracket] = []
        self._next_bracket = 0
        self._jobs: dict[int, _Bracket] = {}
        self._observations: dict[float | None, tuple[list[np.ndarray], list[np.ndarray]]] = {}

    @property
    def multi_fidelity(self) -> bool:
        """Whether the schedule has more than one budget (False on a task without a fidelity)."""
        return len(self._budgets) > 1

    # --- Hyperband ----------------------------------------------------------------------------------

    def propose(self, trial_id: int) -> Proposal:
        bracket = next((b for b in self._brackets if b.to_start), None)
        if bracket is None:
            bracket = self._open_bracket()
        config = bracket.to_start.pop(0)
        budget = bracket.budgets[bracket.rung]
        if config is None:
            config = self._new_config()
        bracket.running += 1
        self._jobs[trial_id] = bracket
        return Proposal(config, budget)

    def observe(self, trial: Trial, result: Result, values: np.ndarray | None, replayed: bool) -> None:
        budget = self._budgets[-1] if trial.fidelity is None else trial.fidelity
        if values is not None:
            vectors, points = self._observations.setdefault(budget, ([], []))
            vectors.append(self._to_vector(trial.config))
            points.append((values - self._lower) / self._span)
        if replayed:  # it fed the model; the schedule has no place for it
            return
        bracket = self._jobs.pop(trial.id)
        bracket.running -= 1
        bracket.finished.append((trial.config, None if values is None else (values - self._lower) / self._span))
        if not bracket.to_start and bracket.running == 0:
            self._promote(bracket)

    def _open_bracket(self) -> _Bracket:
        s_max = len(self._budgets) - 1
        s = s_max - self._next_bracket % (s_max + 1)
        self._next_bracket += 1
        bracket = _Bracket(budgets=self._budgets[s_max - s:], sizes=hyperband_sizes(s, s_max, self._options["eta"]))
        self._brackets.append(bracket)
        return bracket

    def _promote(self, bracket: _Bracket) -> None:
        ok = [(config, point) for config, point in bracket.finished if point is not None]
        bracket.rung += 1
        bracket.finished = []
        if bracket.done or not ok:
            self._brackets.remove(bracket)
            return
        points = np.array([point for _, point in ok])
        best = select_best(points, min(bracket.sizes[bracket.rung], len(ok)), _reference(points))
        bracket.to_start = [ok[i][0] for i in sorted(best)]

    def _snap(self, budget: float) -> float:
        assert self.fidelity is not None
        if self.fidelity.values is not None:
            return float(min(self.fidelity.values, key=lambda v: (abs(v - budget), v)))
        if float(self.fidelity.min).is_integer() and float(self.fidelity.max).is_integer():
            return float(round(budget))
        return float(budget)

    # --- the multi-objective TPE --------------------------------------------------------------------

    def _new_config(self) -> Config:
        min_points = self._options["min_points_in_model"]
        if self._rng.random() >= self._options["random_fraction"]:
            for budget in reversed(self._budgets):
                vectors, points = self._observations.get(budget, ([], []))
                if len(points) >= min_points + 2:
                    config = self._from_model(np.array(vectors), np.array(points), min_points)
                    if config is not None:
                        return config
                    break
        return to_python(self._random_space.sample_configuration())

    def _from_model(self, vectors: np.ndarray, points: np.ndarray, min_points: int) -> Config | None:
        n = len(points)
        gamma = self._options["gamma"]
        n_good = max(min_points, int(math.ceil(gamma * n)))
        n_bad = max(min_points, int(math.floor((1 - gamma) * n)))
        reference = _reference(points)
        good = select_best(points, n_good, reference)
        bad = np.setdiff1d(np.arange(n), select_best(points, n - n_bad, reference)) if n_bad < n else np.arange(n)
        data = self._impute(vectors)
        good_kde = _KDE(data[good], self._n_choices, self._options["min_bandwidth"])
        bad_kde = _KDE(data[bad], self._n_choices, self._options["min_bandwidth"])
        candidates = good_kde.sample(self._rng, self._options["n_samples"], self._options["bandwidth_factor"])
        score = good_kde.log_density(candidates) - bad_kde.log_density(candidates)
        return self._to_config(candidates[int(np.argmax(score))])

    def _to_vector(self, config: Config) -> np.ndarray:
        vector = Configuration(self.space, values=config).get_array().astype(float)
        ordinal = self._ordinal_sizes > 0
        # ordinal positions to the middle of their cell in [0, 1], like every other continuous dimension
        vector[ordinal] = (vector[ordinal] + 0.5) / self._ordinal_sizes[ordinal]
        return vector

    def _impute(self, vectors: np.ndarray) -> np.ndarray:
        data = vectors.copy()
        for j in range(data.shape[1]):
            missing = np.isnan(data[:, j])
            if missing.any():
                data[missing, j] = (self._rng.integers(self._n_choices[j], size=int(missing.sum()))
                                    if self._n_choices[j] > 0 else self._rng.random(int(missing.sum())))
        return data

    def _to_config(self, vector: np.ndarray) -> Config | None:
        vector = vector.copy()
        ordinal = self._ordinal_sizes > 0
        vector[ordinal] = np.minimum(np.floor(vector[ordinal] * self._ordinal_sizes[ordinal]),
                                     self._ordinal_sizes[ordinal] - 1)
        values = {hp.name: hp.to_value(np.array([v]))[0] for hp, v in zip(self.space.values(), vector)}
        try:
            config = deactivate_inactive_hyperparameters(values, self.space)
            config.check_valid_configuration()
        except Exception:  # a forbidden combination: the caller falls back to a random configuration
            return None
        return to_python(config)


def _reference(points: np.ndarray) -> np.ndarray:
    """A reference point behind every observation (normalised objectives: 1.1 unless a value exceeds it)."""
    return np.maximum(1.1, points.max(axis=0) + 0.1)

