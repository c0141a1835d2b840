"""MO-BOHB: Hyperband over the task's fidelity with a multi-objective TPE model proposing new configurations."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import numpy as np

from baselines._successive_halving import Hyperband, option_rung_budgets, reference_behind, select_best
from baselines.base import Baseline, Option, Proposal, register
from tasks.base import Config, Fidelity, Objective, Result, Trial, to_python

if TYPE_CHECKING:  # ConfigSpace (with scipy.stats, about a second) is imported when a MO-BOHB is made, not here
    from ConfigSpace import ConfigurationSpace


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
      ``eta`` (the schedule shared with the other multi-fidelity baselines:
      ``baselines._successive_halving.Hyperband``); inside a bracket, successive halving promotes exactly the planned number of
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
        from ConfigSpace import CategoricalHyperparameter, Constant, OrdinalHyperparameter

        super().__init__(space, objectives, fidelity, seed, **options)
        self._budgets = option_rung_budgets(self)
        if self._options["min_points_in_model"] is None:
            self._options["min_points_in_model"] = len(space) + 1
        hps = list(space.values())
        self._n_choices = np.array([len(hp.choices) if isinstance(hp, CategoricalHyperparameter)
                                    else 1 if isinstance(hp, Constant) else 0 for hp in hps])
        self._ordinal_sizes = np.array([len(hp.sequence) if isinstance(hp, OrdinalHyperparameter) else 0 for hp in hps])
        self._lower = np.array([o.lower for o in objectives])
        self._span = np.array([o.upper - o.lower for o in objectives])
        self._schedule = Hyperband(self._budgets, self._options["eta"])
        self._observations: dict[float | None, tuple[list[np.ndarray], list[np.ndarray]]] = {}

    @property
    def multi_fidelity(self) -> bool:
        """Whether the schedule has more than one budget (False on a task without a fidelity)."""
        return len(self._budgets) > 1

    # --- Hyperband ----------------------------------------------------------------------------------

    def propose(self, trial_id: int) -> Proposal:
        return Proposal(*self._schedule.next_job(trial_id, self._new_config))

    def observe(self, trial: Trial, result: Result, values: np.ndarray | None, replayed: bool) -> None:
        budget = self._budgets[-1] if trial.fidelity is None else trial.fidelity
        point = None if values is None else (values - self._lower) / self._span
        if point is not None:
            vectors, points = self._observations.setdefault(budget, ([], []))
            vectors.append(self._to_vector(trial.config))
            points.append(point)
        if not replayed:  # a replayed trial fed the model; the schedule has no place for it
            self._schedule.finished(trial.id, trial.config, point)

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
        reference = reference_behind(points)
        good = select_best(points, n_good, reference)
        bad = np.setdiff1d(np.arange(n), select_best(points, n - n_bad, reference)) if n_bad < n else np.arange(n)
        data = self._impute(vectors)
        good_kde = _KDE(data[good], self._n_choices, self._options["min_bandwidth"])
        bad_kde = _KDE(data[bad], self._n_choices, self._options["min_bandwidth"])
        candidates = good_kde.sample(self._rng, self._options["n_samples"], self._options["bandwidth_factor"])
        score = good_kde.log_density(candidates) - bad_kde.log_density(candidates)
        return self._to_config(candidates[int(np.argmax(score))])

    def _to_vector(self, config: Config) -> np.ndarray:
        from ConfigSpace import Configuration

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
        from ConfigSpace.util import deactivate_inactive_hyperparameters

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

