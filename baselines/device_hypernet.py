"""A hypernetwork from (preference over the objectives, device context) to a distribution over architectures.

Two ways to use it:

1. **An ordinary baseline** (``device_hypernet``, ask/tell on one task): it trains the hypernetwork on the
   evaluations of its own run (with the task's ``context`` when there is one) and samples each trial from
   the distribution of a random preference vector.
2. **One search, many devices**: ``train_hypernet`` trains one model over several devices' evaluations (each
   with its context); ``DeviceHypernet.zero_shot`` then makes a baseline that proposes, for a device it never
   saw, the ``k`` architectures of ``k`` preference vectors spread over the simplex, from the context alone,
   and learns nothing from their results. ``benchmarks/hardware_transfer.py`` trains it on HELP's training
   devices and writes its fronts on the test devices as ordinary run folders (docs/hardware.md).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np

from baselines._levels import LevelGrid, LevelHistory
from baselines.base import Baseline, Option, Proposal, register
from tasks.base import Objective, Result, Trial
from tasks.threads import torch_threads


@dataclass(frozen=True)
class DeviceData:
    """One device's training data: level indices of the evaluated architectures (n, parameters), their
    objectives normalised by the task's bounds (n, objectives), and the device's context (or None)."""

    indices: np.ndarray
    normalised: np.ndarray
    context: np.ndarray | None


class Hypernet:
    """The model: an MLP from ``[w, c]`` (preference, context) to one categorical distribution per parameter.

    Trained by ``fit`` on devices' evaluations: for each device and a batch of preference vectors drawn
    from a flat Dirichlet, the target is the soft-min over the evaluated architectures of their weighted
    Tchebycheff value ``max_i w_i y_i`` (ideal point 0, objectives normalised by the task's bounds: every
    Pareto-optimal point minimises it for some preference, concave parts of a front included; temperature
    ``temperature`` in normalised units), and the loss the cross-entropy of the
    architecture distribution against it: ``-sum_a q(a | w) log p(a | w, c)``, where ``log p(a)`` is the sum
    of each parameter's log-probability of its level. So the model learns, for every preference and device,
    where the best trade-off architectures lie, from table answers alone (no supernet).

    Weights start from ``rng`` (numpy), so a seed fixes the model without torch's global generator.
    """

    def __init__(self, grid: LevelGrid, n_objectives: int, context_size: int, hidden: int,
                 rng: np.random.Generator, learning_rate: float = 0.005) -> None:
        import torch

        self.grid = grid
        self.n_objectives = n_objectives
        self.context_size = context_size
        self._rng = rng
        width_in = n_objectives + context_size
        shapes = [(width_in, hidden), (hidden,), (hidden, hidden), (hidden,), (hidden, grid.width), (grid.width,)]
        self.parameters = [torch.tensor(rng.normal(0, (1 / shape[0]) ** 0.5, size=shape) if len(shape) == 2
                                        else np.zeros(shape), dtype=torch.float32, requires_grad=True)
                           for shape in shapes]
        self._optimiser = torch.optim.Adam(self.parameters, lr=learning_rate)
        #: training steps taken, and a hash of the training data seen (both the same for every seed of a recipe)
        self.steps = 0
        self._data = hashlib.sha256()
        # which one-hot column belongs to which parameter: a per-parameter softmax over its own block
        self._blocks = [slice(int(o), int(o + s)) for o, s in zip(grid.offsets, grid.sizes)]

    def log_probabilities(self, preferences: np.ndarray, contexts: np.ndarray | None) -> Any:
        """Log-probability of each level, per parameter block: a torch tensor (preferences, grid width).

        ``contexts``: one context per preference row (rows, context size), or one for all, or None."""
        import torch

        w = torch.as_tensor(np.asarray(preferences, dtype=np.float32))
        if self.context_size:
            c = None if contexts is None else np.atleast_2d(np.asarray(contexts, dtype=np.float32))
            if c is None or c.shape[1] != self.context_size:
                raise ValueError(f"this hypernetwork was trained with contexts of length {self.context_size}, "
                                 f"got {None if c is None else c.shape[1]}")
            w = torch.cat([w, torch.as_tensor(c).expand(len(w), -1)], dim=1)
        w1, b1, w2, b2, w3, b3 = self.parameters
        h = torch.relu(w @ w1 + b1)
        h = torch.relu(h @ w2 + b2)
        logits = h @ w3 + b3
        return torch.cat([torch.log_softmax(logits[:, block], dim=1) for block in self._blocks], dim=1)

    def fit(self, devices: Sequence[DeviceData], epochs: int, batch: int = 32, temperature: float = 0.02) -> None:
        """``epochs`` steps, each over every device with ``batch`` fresh preference vectors (warm start).

        All devices go through one batched step: every preference row is scored against every architecture,
        and a mask keeps each row to its own device's architectures."""
        import torch

        devices = [d for d in devices if len(d.indices)]
        if not devices:
            return
        for d in devices:
            for array in (d.indices, d.normalised, d.context):
                self._data.update(b"-" if array is None else np.ascontiguousarray(array, dtype=float).tobytes())
        self.steps += epochs
        one_hot = torch.as_tensor(np.concatenate([self.grid.one_hot(d.indices) for d in devices]))
        normalised = torch.as_tensor(np.concatenate([d.normalised for d in devices]).astype(np.float32))
        owner = np.concatenate([np.full(len(d.indices), i) for i, d in enumerate(devices)])
        row_device = np.repeat(np.arange(len(devices)), batch)
        other = torch.as_tensor(row_device[:, None] != owner[None, :])
        contexts = None if not self.context_size else \
            np.stack([np.asarray(devices[i].context, dtype=np.float32) for i in row_device])
        with torch_threads(1):
            self._steps(one_hot, normalised, other, contexts, len(row_device), epochs, temperature)

    def _steps(self, one_hot: Any, normalised: Any, other: Any, contexts: np.ndarray | None, rows: int,
               epochs: int, temperature: float) -> None:
        import torch

        for _ in range(epochs):
            self._optimiser.zero_grad()
            preferences = self._rng.dirichlet(np.ones(self.n_objectives), size=rows).astype(np.float32)
            value = (torch.as_tensor(preferences)[:, None, :] * normalised[None, :, :]).amax(dim=2)
            target = torch.softmax((-value / temperature).masked_fill(other, -torch.inf), dim=1)
            log_p = (self.log_probabilities(preferences, contexts) @ one_hot.T).masked_fill(other, 0.0)
            loss = -(target * log_p).sum(dim=1).mean()
            loss.backward()
            self._optimiser.step()

    def sample(self, preference: np.ndarray, context: np.ndarray | None, rng: np.random.Generator,
               most_likely: bool = False) -> np.ndarray:
        """Level indices of one architecture: the most likely level per parameter, or a draw."""
        import torch

        with torch.no_grad(), torch_threads(1):
            log_p = self.log_probabilities(preference[None, :], context)[0].numpy().astype(float)
        out = np.empty(len(self._blocks), dtype=np.int64)
        for j, block in enumerate(self._blocks):
            p = np.exp(log_p[block])
            out[j] = int(np.argmax(p)) if most_likely else int(rng.choice(len(p), p=p / p.sum()))
        return out

    def data_fingerprint(self) -> str:
        """SHA-256 of every training set ``fit`` was given (indices, objectives, contexts): names what the model
        learnt from, the same for every seed."""
        return self._data.hexdigest()

    def fingerprint(self) -> str:
        """SHA-256 of the weights: names the trained model in a run's metadata."""
        digest = hashlib.sha256()
        for parameter in self.parameters:
            digest.update(parameter.detach().numpy().tobytes())
        return digest.hexdigest()


def spread_preferences(k: int, n_objectives: int) -> np.ndarray:
    """``k`` preference vectors spread over the simplex: evenly spaced for two objectives, else the
    Riesz s-energy directions of pymoo (its reference-direction factory for any number of points)."""
    if n_objectives == 2:
        t = np.linspace(0.0, 1.0, k) if k > 1 else np.array([0.5])
        return np.stack([t, 1 - t], axis=1)
    from pymoo.util.ref_dirs import get_reference_directions

    return np.asarray(get_reference_directions("energy", n_objectives, k, seed=1), dtype=float)


def front_layers(device: DeviceData, layers: int) -> DeviceData:
    """The device's architectures in its first ``layers`` Pareto layers (non-dominated sorting ranks).

    Why: the training target (a soft-min of the Tchebycheff value at temperature 0.02) gives an architecture
    behind several layers of better ones a negligible weight for every preference, while all 15,625 of a
    table made each training step about 50 times slower."""
    from baselines.hw_pr_nas import pareto_ranks

    keep = pareto_ranks(device.normalised) < layers
    return DeviceData(device.indices[keep], device.normalised[keep], device.context)


def train_hypernet(devices: Sequence[DeviceData], grid: LevelGrid, n_objectives: int, seed: int,
                   epochs: int = 200, hidden: int = 64, layers: int | None = 8) -> Hypernet:
    """Mode 2's training: one hypernetwork over several devices' evaluations (each with its context), on
    each device's first ``layers`` Pareto layers (None: every architecture given)."""
    sizes = {0 if d.context is None else len(d.context) for d in devices}
    if len(sizes) != 1:
        raise ValueError(f"every device needs a context of one length (or none), got lengths {sorted(sizes)}")
    model = Hypernet(grid, n_objectives, sizes.pop(), hidden, np.random.default_rng(seed))
    model.fit([d if layers is None else front_layers(d, layers) for d in devices], epochs)
    return model


def normalised_objectives(values: np.ndarray, objectives: Sequence[Objective]) -> np.ndarray:
    """Objective values scaled by the objectives' fixed bounds (0 at ``lower``, 1 at ``upper``)."""
    lower = np.array([o.lower for o in objectives])
    upper = np.array([o.upper for o in objectives])
    return (np.asarray(values, dtype=float) - lower) / (upper - lower)


@register("device_hypernet")
class DeviceHypernet(Baseline):
    """A preference- and device-conditioned hypernetwork proposing architectures (the module docstring
    gives both modes).

    After the hardware-aware, preference-conditioned hypernetwork NAS of Sukthanker et al., "Multi-objective
    Differentiable Neural Architecture Search" (MODNAS, ICLR 2025): a hypernetwork maps a preference vector over the objectives and a device's hardware embedding to
    architecture parameters, trained across devices so that one search profiles the front of many and
    transfers zero-shot to new ones. Differences, stated: MODNAS trains its hypernetwork through a supernet
    by gradients of the scalarised objectives; here the table answers, so the hypernetwork (``Hypernet``) is
    fitted to the soft-min of the Tchebycheff scalarisation over the architectures evaluated, and a
    distribution over architectures is one categorical per space parameter (``baselines._levels``: numeric
    parameters binned), so it works from the space alone, on any space.

    Mode 1 (this constructor): ``n_startup_trials`` random trials, then each ask draws a preference from a
    flat Dirichlet and samples an architecture from the model's distribution for it and the task's
    ``context`` (none: the model takes the preference alone), refitting (warm-started) after new results.
    A tried or pending architecture is redrawn (up to 50 times, then a random one), so asynchronous workers
    get different trials; failed evaluations count as tried; replayed trials enter the data.

    Options:
        n_startup_trials: random trials before the model proposes (default 10).
        hidden: units per hidden layer (default 64).
        epochs: training steps after each new result (default 20; warm-started).
    """

    OPTIONS = {
        "n_startup_trials": Option.integer(10, at_least=1),
        "hidden": Option.integer(64, at_least=1),
        "epochs": Option.integer(20, at_least=1),
    }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._history = LevelHistory(self.space)
        self._model: Hypernet | None = None
        self._zero_shot: list[np.ndarray] | None = None  # mode 2: the front still to propose, first last
        self._provenance: dict[str, Any] = {}

    @classmethod
    def zero_shot(cls, model: Hypernet, space: Any, objectives: tuple[Objective, ...], seed: int,
                  context: np.ndarray | None, k: int) -> DeviceHypernet:
        """Mode 2: a baseline proposing ``model``'s front for ``context`` (``k`` spread preferences, the most
        likely architecture of each; a repeated one is replaced by a draw from the same preference's
        distribution), learning nothing from results. After ``k`` asks it samples random preferences.
        Its options record ``k`` and what the model learnt from (``training_data_sha256``, ``training_steps``)."""
        baseline = cls(space, objectives, None, seed, context=context)
        grid = baseline._history.grid
        if grid.names != model.grid.names or not np.array_equal(grid.sizes, model.grid.sizes):
            raise ValueError("the hypernetwork was trained on another space: its parameters or levels differ")
        baseline._model = model
        front = []
        for preference in spread_preferences(k, len(objectives)):
            indices = model.sample(preference, baseline.context, baseline._rng, most_likely=True)
            for _ in range(50):
                if tuple(indices) not in {tuple(f) for f in front}:
                    break
                indices = model.sample(preference, baseline.context, baseline._rng)
            front.append(indices)
        baseline._zero_shot = front[::-1]
        # what the model is, the same for every seed (the analysis takes runs that differ in an option for two
        # experiments): its training data and steps, not its weights
        baseline._provenance = {"zero_shot_k": k, "training_data_sha256": model.data_fingerprint(),
                                "training_steps": model.steps}
        return baseline

    def options(self) -> dict[str, Any]:
        return {**self._options, **self._provenance}

    def propose(self, trial_id: int) -> Proposal:
        history = self._history
        while self._zero_shot:
            indices = self._zero_shot.pop()
            history.tried.add(tuple(indices))
            try:
                return Proposal(history.grid.config(indices, self._rng))
            except ValueError:  # a forbidden clause: the next member of the proposed front
                continue
        if self._model is None and history.n_results < self._options["n_startup_trials"]:
            return self._random()
        self._fit()
        assert self._model is not None
        preference = self._rng.dirichlet(np.ones(len(self.objectives)))
        for _ in range(50):
            indices = self._model.sample(preference, self.context, self._rng)
            if tuple(indices) not in history.tried:
                try:
                    config = history.grid.config(indices, self._rng)
                except ValueError:  # a forbidden clause: draw again
                    continue
                history.tried.add(tuple(indices))
                return Proposal(config)
        return self._random()

    def _random(self) -> Proposal:
        indices, config_of = self._history.grid.sample(1, self._rng, self._random_space)
        self._history.tried.add(tuple(indices[0]))
        return Proposal(config_of(0))

    def _fit(self) -> None:
        history = self._history
        if self._zero_shot is not None or not history.stale:
            return  # mode 2 never learns on the device it is measured on
        if self._model is None:
            size = 0 if self.context is None else len(self.context)
            self._model = Hypernet(history.grid, len(self.objectives), size, self._options["hidden"], self._rng)
        data = DeviceData(history.x, normalised_objectives(history.y, self.objectives), self.context)
        self._model.fit([data], self._options["epochs"])
        history.stale = False

    def observe(self, trial: Trial, result: Result, values: np.ndarray | None, replayed: bool) -> None:
        self._history.observe(trial.config, values)
