"""MO-BANANAS: an ensemble of neural predictors of the objectives picks mutations of the best configurations;
MOSH-BANANAS (option ``successive_halving``) evaluates its picks by asynchronous successive halving."""

from __future__ import annotations

from collections import deque
from typing import Any

import numpy as np

from baselines._evolution import mutate, normalised
from baselines._levels import LevelGrid
from baselines._successive_halving import (
    AsynchronousSuccessiveHalving,
    config_key,
    nondominated_order,
    option_rung_budgets,
)
from baselines.base import Baseline, Option, Proposal, register
from tasks.base import Config, Result, Trial, to_python
from tasks.threads import torch_seeded, torch_threads


def ranks(points: np.ndarray) -> np.ndarray:
    """The position of each row of ``points`` (minimised) in ``nondominated_order``: 0 for the best."""
    position = np.empty(len(points))
    position[nondominated_order(points)] = np.arange(len(points))
    return position


@register("mo_bananas")
class MOBANANAS(Baseline):
    """MO-BANANAS: multi-objective BANANAS, an ensemble of small neural networks that predict every objective
    and choose among mutations of the best configurations found so far.

    Guerrero-Viu, Hauns, Izquierdo, Miotto, Schrodi, Biedenkapp, Elsken, Deng, Lindauer and Hutter, "Bag of
    Baselines for Multi-objective Joint Neural Architecture Search and Hyperparameter Optimization", ICML 2021
    AutoML workshop (arXiv:2105.01015), section 4, after White, Neiswanger and Savani, "BANANAS: Bayesian
    Optimization with Neural Architectures for Neural Architecture Search", AAAI 2021. As the paper's code
    (automl/multi-obj-baselines, ``methods/mobananas``); own code, since no library implements it:

    - The first ``n_initial_trials`` configurations are random.
    - Then, whenever no pick is left, the ensemble (``n_networks`` MLPs with one hidden layer of ``hidden``
      units, torch on the CPU, each from its own initialisation and batch order, Adam, mean squared error)
      is trained for ``epochs`` epochs on every successful result (configurations one-hot encoded by level,
      ``baselines._levels.LevelGrid``, the encoding the other neural predictors of the suite share; objectives
      scaled by the task's bounds). The ``n_parents`` best observed
      configurations (``nondominated_order``: non-dominated rank, farthest-first inside a front; the paper
      used crowding distance) each give ``n_mutations`` children, each child ``n_changes`` successive
      one-parameter mutations of its parent (the paper changed 3 parameters); children observed, pending or
      picked already are dropped. Each child is ranked (same order) among the children under the
      ensemble's mean prediction and under each network's prediction; as the paper's independent Thompson
      sampling, a score is drawn from a normal with the mean-prediction rank as mean and the spread of the
      per-network ranks as standard deviation, and the ``batch`` children of lowest score are the next picks.
    - Asynchronous workers take the picks one at a time; a new batch is chosen when they are used up, from
      every result told by then (pending trials are not in the data, only excluded from the children).
    - Failed evaluations are left out of the training data (and never asked again); replayed results enter
      it like any other.
    - ``successive_halving`` (MOSH-BANANAS): the picks enter the suite's asynchronous successive halving
      (``baselines._successive_halving``, the schedule MO-ASHA runs: rungs from ``min_budget`` to
      ``max_budget`` with ratio ``eta``, promotion by ``nondominated_order``) instead of running at the
      maximum fidelity: a promotion is taken when the schedule has one, else the next pick starts at the
      lowest rung. The paper ran synchronous successive halving on each batch; the asynchronous schedule
      keeps workers busy. The ensemble learns each configuration's result at the highest budget it reached.
      Without a fidelity there is one rung: MO-BANANAS.

    Args (options):
        n_initial_trials: random configurations first (paper: 20; default 10 like the suite's other models).
        n_networks: networks in the ensemble (paper: 5).
        hidden: hidden units of each network (paper: 10).
        epochs: training epochs per batch (paper: 80); lr: Adam's learning rate (default 0.01; paper 0.1).
        n_parents, n_mutations, n_changes: parents, children per parent, mutations per child (paper: 8, 1, 3).
        batch: picks per training (paper: 4).
        successive_halving, eta, min_budget, max_budget: MOSH-BANANAS and its rungs (paper: eta 3, 5..25).
    """

    OPTIONS = {
        "n_initial_trials": Option.integer(10, at_least=2),
        "n_networks": Option.integer(5, at_least=2),
        "hidden": Option.integer(10, at_least=1),
        "epochs": Option.integer(80, at_least=1),
        "lr": Option.real(0.01, above=0),
        "n_parents": Option.integer(8, at_least=1),
        "n_mutations": Option.integer(10, at_least=1),
        "n_changes": Option.integer(3, at_least=1),
        "batch": Option.integer(4, at_least=1),
        "successive_halving": Option.flag(False),
        "eta": Option.real(3.0, above=1),
        "min_budget": Option.real(None, above=0, none_means="the fidelity's minimum"),
        "max_budget": Option.real(None, above=0, none_means="the fidelity's maximum"),
    }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        options = self._options
        budgets: list[float | None] = [None]
        if options["successive_halving"]:
            budgets = option_rung_budgets(self)
        elif options["min_budget"] is not None or options["max_budget"] is not None:
            raise self.option_error("options min_budget/max_budget need successive_halving: true")
        self._schedule = AsynchronousSuccessiveHalving(budgets, options["eta"], nondominated_order)
        self._grid = LevelGrid(self.space)
        # ConfigSpace's samplers take a legacy RandomState; it is drawn from the seed's generator
        self._random_state = np.random.RandomState(self._rng.integers(2**32))
        #: per configuration: (budget, configuration, normalised objectives) at the highest budget it reached
        self._data: dict[str, tuple[float, Config, np.ndarray]] = {}
        self._asked: set[str] = set()  # every configuration asked or told, failed ones too
        self._picks: deque[Config] = deque()

    def propose(self, trial_id: int) -> Proposal:
        config, budget = self._schedule.next_job(trial_id, self._new_config)
        self._asked.add(config_key(config))
        return Proposal(config, budget)

    def observe(self, trial: Trial, result: Result, values: np.ndarray | None, replayed: bool) -> None:
        budget = trial.fidelity
        if budget is None and self.fidelity is not None:
            budget = float(self.fidelity.max)
        point = None if values is None else normalised(values, self.objectives)
        self._schedule.finished(None if replayed else trial.id, trial.config, budget, point)
        key = config_key(trial.config)
        self._asked.add(key)
        level = -np.inf if budget is None else budget
        if point is not None and (key not in self._data or self._data[key][0] <= level):
            self._data[key] = (level, trial.config, point)

    def _new_config(self) -> Config:
        if len(self._data) < self._options["n_initial_trials"]:
            return to_python(self._random_space.sample_configuration())
        if not self._picks:
            self._picks.extend(self._choose())
        if not self._picks:  # every child was seen already (a small, exhausted space)
            return to_python(self._random_space.sample_configuration())
        return self._picks.popleft()

    def _choose(self) -> list[Config]:
        """The next batch of picks: children of the best configurations, chosen by the ensemble."""
        options = self._options
        configs = [config for _, config, _ in self._data.values()]
        points = np.array([point for _, _, point in self._data.values()])
        children: dict[str, Config] = {}
        for parent in nondominated_order(points, options["n_parents"]).tolist():
            for _ in range(options["n_mutations"]):
                child: Config | None = configs[parent]
                for _ in range(options["n_changes"]):
                    child = mutate(child, self.space, self._random_state) if child is not None else None
                if child is not None and config_key(child) not in self._asked:
                    children.setdefault(config_key(child), child)
        if not children:
            return []
        candidates = list(children.values())
        predictions = self._predict(configs, points, candidates)  # networks x candidates x objectives
        mean_rank = ranks(predictions.mean(axis=0))
        member_ranks = np.array([ranks(p) for p in predictions])
        spread = np.sqrt(((member_ranks - mean_rank) ** 2).sum(axis=0) / (len(predictions) - 1))
        scores = self._rng.normal(mean_rank, spread)
        return [candidates[i] for i in np.argsort(scores, kind="stable")[: options["batch"]]]

    def _predict(self, configs: list[Config], points: np.ndarray, candidates: list[Config]) -> np.ndarray:
        """Each network's prediction for ``candidates`` after training on (``configs``, ``points``).

        The networks are trained together as one batch of weight matrices (``torch.baddbmm``): each has its own
        initialisation, its own order of minibatches and its own loss, and Adam works element by element, so
        this is ``n_networks`` independent trainings in one pass (five times fewer torch calls). One torch
        thread, as the suite's other neural predictors (``tasks.threads.torch_threads``): on matrices this small
        a second thread only waits; the predictions are the same bit for bit.
        """
        import torch

        options = self._options
        n_networks, hidden = options["n_networks"], options["hidden"]
        inputs, queries = (torch.from_numpy(self._grid.one_hot(np.array([self._grid.indices(c) for c in group])))
                           for group in (configs, candidates))
        targets = torch.tensor(points, dtype=torch.float32)
        width, outputs = inputs.shape[1], targets.shape[1]
        with torch_seeded(int(self._rng.integers(2**31))), torch_threads(1):

            def uniform(*shape: int, fan_in: int) -> torch.Tensor:  # torch.nn.Linear's initialisation
                bound = 1 / np.sqrt(max(fan_in, 1))
                return torch.empty(n_networks, *shape).uniform_(-bound, bound).requires_grad_()

            weights = [uniform(width, hidden, fan_in=width), uniform(1, hidden, fan_in=width),
                       uniform(hidden, outputs, fan_in=hidden), uniform(1, outputs, fan_in=hidden)]

            def forward(x: torch.Tensor) -> torch.Tensor:  # x: networks x rows x width
                first, first_bias, second, second_bias = weights
                return torch.baddbmm(second_bias, torch.relu(torch.baddbmm(first_bias, x, first)), second)

            optimiser = torch.optim.Adam(weights, lr=options["lr"], foreach=True)
            for _ in range(options["epochs"]):
                order = torch.argsort(torch.rand(n_networks, len(inputs)), dim=1)  # one shuffle per network
                for batch in order.split(32, dim=1):
                    optimiser.zero_grad()
                    # the sum of the networks' mean squared errors: each network's gradient is its own loss's
                    loss = ((forward(inputs[batch]) - targets[batch]) ** 2).mean(dim=(1, 2)).sum()
                    loss.backward()
                    optimiser.step()
            with torch.no_grad():
                return forward(queries.expand(n_networks, -1, -1)).numpy().astype(float)
