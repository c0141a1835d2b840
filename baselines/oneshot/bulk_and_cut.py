"""Bulk & Cut: grow trained networks by function-preserving morphisms, then prune them with knowledge distillation.

The method of Guerrero-Viu, Hauns, Izquierdo, Miotto, Schrodi, Biedenkapp, Elsken, Deng, Lindauer and Hutter,
"Bag of Baselines for Multi-objective Joint Neural Architecture Search and Hyperparameter Optimization", ICML
2021 AutoML workshop (arXiv:2105.01015), as its code runs it (github automl/multi-obj-baselines,
``baselines/methods/bulkandcut``; read for the algorithm, none of it copied). One search, three phases that
share a wall-clock budget (35 %, 40 %, 25 %):

1. *initial population*: networks of configurations drawn at random from the task's space, trained from
   scratch for ``epochs`` (the task's maximum fidelity);
2. *bulk-up*: a parent drawn from the first Pareto front (probability 0.85, else the second), weighted by
   (accuracy - chance)^2, is grown by a network morphism (``deepen``: a conv or linear cell initialised to the
   identity, conv with probability 0.7) and the offspring trained ``epochs`` from the parent's weights;
3. *slim-down*: a parent drawn from the first front (0.85, else the second; not yet cut where possible) is
   pruned (``prune``: about 10 % of each conv layer's input channels, 7.5 % of each linear layer's inputs,
   5 % of the output layer's, among the units of lowest L1 weight) and trained ``round(epochs / 3)`` epochs
   with knowledge distillation: the mean squared error to the parent's logits.

Each training's learning rate is proposed by a constrained Bayesian optimiser (a Matern-5/2 Gaussian process
over (log10 learning rate, depth, log10 parameters) whose last two are fixed to the network's: the lower
confidence bound is minimised over the learning rate alone); its target is the final validation loss in phases
1-2 and the final training loss in phase 3, as in the original. The batch is an eighth of the training set, and
training sees the original's augmentation (horizontal flips, mixup) unless ``augment`` is off.

Every network is trained and measured by the task's own protocol (``tasks.live.training.ModuleTraining``: its
training step, its validation accuracy, its objectives), so the networks' rows are the method's own
measurements of its inherited-weight networks at its own wall-clock cost (``suite.oneshot.record_oneshot``).

Own code on torch: no maintained library implements these morphisms and this search; the Gaussian process is
scikit-learn's and the non-dominated sorting moocore's. Where this differs from the original code is listed in
docs/baselines.md (Bulk & Cut).
"""

from __future__ import annotations

import copy
import math
import time
import warnings
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any, Callable

import moocore
import numpy as np
import torch
from ConfigSpace import ConfigurationSpace
from scipy.optimize import minimize
from sklearn.gaussian_process import GaussianProcessRegressor
from sklearn.gaussian_process.kernels import Matern
from torch import nn
from torch.nn import functional

from tasks.base import Result

if TYPE_CHECKING:  # a method knows the task's capability by its interface; the task hands it the object
    from tasks.live.cnn import BatchLoss
    from tasks.live.training import ModuleTraining

#: the layers a morph understands: sequential conv / linear cells (weight, ReLU, optional batch norm) and pooling
LAYERS = (nn.Conv2d, nn.Linear, nn.ReLU, nn.BatchNorm2d, nn.MaxPool2d, nn.AdaptiveAvgPool2d, nn.Flatten)
PHASES = ("initial", "bulk-up", "slim-down")


@dataclass(frozen=True)
class Cell:
    """A hidden cell of a sequential network: its weighted layer's position, kind, and its batch norm's position."""

    index: int
    kind: str  # "conv" or "linear"
    norm: int | None


def hidden_cells(model: nn.Sequential) -> list[Cell]:
    """The hidden cells (a conv or linear layer followed by ReLU and an optional batch norm), in order.

    Raises ValueError for a module that is not a sequential conv / linear network ending in a linear layer.
    """
    layers = list(model)
    for layer in layers:
        if not isinstance(layer, LAYERS):
            raise ValueError(f"bulk_and_cut morphs sequential conv/linear networks; {type(layer).__name__} is not "
                             f"one of {', '.join(kind.__name__ for kind in LAYERS)}")
    if not layers or not isinstance(layers[-1], nn.Linear):
        raise ValueError("bulk_and_cut morphs networks whose last layer is linear (the output layer)")
    cells = []
    for i, layer in enumerate(layers[:-1]):
        if isinstance(layer, (nn.Conv2d, nn.Linear)):
            if not isinstance(layers[i + 1], nn.ReLU):
                raise ValueError(f"layer {i} ({layer}) is not followed by a ReLU: not a cell bulk_and_cut can morph")
            norm = i + 2 if i + 2 < len(layers) and isinstance(layers[i + 2], nn.BatchNorm2d) else None
            cells.append(Cell(i, "conv" if isinstance(layer, nn.Conv2d) else "linear", norm))
    return cells


def _consumer(layers: list[nn.Module], cell: Cell) -> int:
    """Position of the weighted layer that reads ``cell``'s output."""
    return next(j for j in range(cell.index + 1, len(layers)) if isinstance(layers[j], (nn.Conv2d, nn.Linear)))


def _copy_conv(layer: nn.Conv2d, weight: torch.Tensor, bias: torch.Tensor) -> nn.Conv2d:
    new = nn.Conv2d(weight.shape[1], weight.shape[0], layer.kernel_size, padding=layer.padding)
    new.weight.data.copy_(weight)
    new.bias.data.copy_(bias)
    return new


def _copy_linear(weight: torch.Tensor, bias: torch.Tensor) -> nn.Linear:
    new = nn.Linear(weight.shape[1], weight.shape[0])
    new.weight.data.copy_(weight)
    new.bias.data.copy_(bias)
    return new


@torch.no_grad()
def remap_units(model: nn.Sequential, cell: Cell, units: np.ndarray, shares: np.ndarray) -> nn.Sequential:
    """A copy of ``model`` whose ``cell`` has output units ``units`` of the old one (an index may repeat: a
    copied unit), the layer reading them weighting new unit j's input by ``shares[j]``.

    Widening (Net2WiderNet, Chen, Goodfellow and Shlens, ICLR 2016) repeats units and splits each one's
    outgoing weights into shares that sum to one, so the function is kept; pruning keeps a subset with share 1.
    A flattened conv output feeds a linear layer with one block of columns per channel.
    """
    model = copy.deepcopy(model)
    layers = list(model)
    producer = layers[cell.index]
    device = producer.weight.device  # the morphed layers are built on the CPU; the caller moves the network
    index = torch.as_tensor(units, dtype=torch.long, device=device)
    share = torch.as_tensor(shares, dtype=torch.float32, device=device)
    if isinstance(producer, nn.Conv2d):
        model[cell.index] = _copy_conv(producer, producer.weight[index], producer.bias[index])
    else:
        model[cell.index] = _copy_linear(producer.weight[index], producer.bias[index])
    if cell.norm is not None:
        old = layers[cell.norm]
        norm = nn.BatchNorm2d(len(units), eps=old.eps, momentum=old.momentum)
        for name in ("weight", "bias", "running_mean", "running_var"):
            getattr(norm, name).data.copy_(getattr(old, name)[index])
        norm.num_batches_tracked.copy_(old.num_batches_tracked)
        model[cell.norm] = norm
    at = _consumer(layers, cell)
    consumer = layers[at]
    if isinstance(consumer, nn.Conv2d):
        weight = consumer.weight[:, index] * share[None, :, None, None]
        model[at] = _copy_conv(consumer, weight, consumer.bias)
    else:
        width = producer.weight.shape[0]
        block = consumer.in_features // width  # spatial positions per channel of a flattened conv output
        columns = (index[:, None] * block + torch.arange(block, device=device)[None, :]).reshape(-1)
        weight = consumer.weight[:, columns] * share.repeat_interleave(block)[None, :]
        model[at] = _copy_linear(weight, consumer.bias)
    return model


def widen(model: nn.Sequential, cell: Cell, n_new: int, rng: np.random.Generator) -> nn.Sequential:
    """``cell`` widened by ``n_new`` copies of randomly chosen units, keeping the function (``remap_units``).

    A copied unit's outgoing weight is split into unequal random shares (Dirichlet, near equal): with equal
    shares the copies would get equal gradients and stay copies for ever.
    """
    width = list(model)[cell.index].weight.shape[0]
    units = np.concatenate([np.arange(width), rng.integers(width, size=n_new)])
    shares = np.ones(len(units))
    for unit in np.unique(units[width:]):
        where = np.flatnonzero(units == unit)
        shares[where] = rng.dirichlet(np.full(len(where), 20.0))
    return remap_units(model, cell, units, shares)


@torch.no_grad()
def deepen(model: nn.Sequential, cell: Cell) -> nn.Sequential:
    """A copy of ``model`` with an identity cell after ``cell``, keeping the function in evaluation mode.

    The new layer is a conv (Dirac kernel, the cell's kernel size and padding) or linear (identity matrix) with
    zero bias, followed by a ReLU: it sees the cell's ReLU output (>= 0), which it passes unchanged. A cell with
    batch norm hands that norm to the new cell and gets an identity norm (mean 0, variance 1 - eps), so both
    cells stay conv-ReLU-norm. The original inserts conv-ReLU-norm after the norm, which keeps the function only
    where the norm's output is non-negative, and adds 1e-5 noise; this keeps it exactly (to float rounding).
    """
    model = copy.deepcopy(model)
    layers = list(model)
    layer = layers[cell.index]
    if isinstance(layer, nn.Conv2d):
        identity: nn.Module = nn.Conv2d(layer.out_channels, layer.out_channels, layer.kernel_size,
                                        padding=layer.padding)
        nn.init.dirac_(identity.weight)
    else:
        identity = nn.Linear(layer.out_features, layer.out_features)
        nn.init.eye_(identity.weight)
    nn.init.zeros_(identity.bias)
    inserted: list[nn.Module] = [identity, nn.ReLU()]
    if cell.norm is not None:
        old = layers[cell.norm]
        norm = nn.BatchNorm2d(old.num_features, eps=old.eps, momentum=old.momentum)
        norm.running_var.fill_(1.0 - old.eps)
        inserted.insert(0, norm)
    after = cell.index + 2  # behind the cell's ReLU, before its norm
    return nn.Sequential(*layers[:after], *inserted, *layers[after:])


def prune(model: nn.Sequential, amounts: dict[str, float], rng: np.random.Generator) -> nn.Sequential:
    """Every hidden cell loses ``int(amount * width)`` output units; the amount is that of the layer reading
    them (``amounts``: "conv", "linear", "head"). The units go at random among the twice as many whose incoming
    weights in that reader have the lowest L1 norm (the original's stated rule)."""
    for cell in reversed(hidden_cells(model)):  # positions do not move: a prune keeps every layer
        layers = list(model)
        width = layers[cell.index].weight.shape[0]
        at = _consumer(layers, cell)
        kind = "head" if at == len(layers) - 1 else ("conv" if isinstance(layers[at], nn.Conv2d) else "linear")
        drop = int(amounts[kind] * width)
        if drop == 0:
            continue
        weight = layers[at].weight.detach().abs()
        norms = weight.sum(dim=(0, 2, 3)) if weight.dim() == 4 else weight.sum(dim=0).reshape(width, -1).sum(dim=1)
        lowest = torch.argsort(norms, stable=True)[: 2 * drop].cpu().numpy()
        gone = rng.choice(lowest, size=drop, replace=False)
        keep = np.setdiff1d(np.arange(width), gone)
        model = remap_units(model, cell, keep, np.ones(len(keep)))
    return model


def describe(model: nn.Sequential) -> str:
    """The network's layers in one line (ReLUs implied), e.g. ``conv3x3-16 bn maxpool flatten fc-32 fc-17``."""
    words = []
    for layer in model:
        if isinstance(layer, nn.Conv2d):
            words.append(f"conv{layer.kernel_size[0]}x{layer.kernel_size[1]}-{layer.out_channels}")
        elif isinstance(layer, nn.Linear):
            words.append(f"fc-{layer.out_features}")
        elif not isinstance(layer, nn.ReLU):
            words.append({nn.BatchNorm2d: "bn", nn.MaxPool2d: "maxpool", nn.AdaptiveAvgPool2d: "gap",
                          nn.Flatten: "flatten"}[type(layer)])
    return " ".join(words)


class LearningRateModel:
    """The original's constrained Bayesian optimiser of the learning rate (Matern-5/2 GP, lower confidence bound
    2.5 sigma), with depth and log10(parameters) as observed, not chosen, inputs.

    Fewer than two observations: a uniform draw. Then the GP (scikit-learn, 5 restarts) is fitted and the bound
    minimised over the learning rate by 10,000 random draws and 10 L-BFGS-B starts (scipy), as the original.
    """

    DEPTH = (1.0, 15.0)
    LOG_PARAMS = (0.0, 8.0)

    def __init__(self, lr_exponent: tuple[float, float], seed: int) -> None:
        self.bounds = lr_exponent
        self._x: list[list[float]] = []
        self._y: list[float] = []
        self._gp = GaussianProcessRegressor(kernel=Matern(nu=2.5), alpha=1e-6, normalize_y=True,
                                            n_restarts_optimizer=5, random_state=seed)

    def observe(self, lr_exponent: float, depth: int, log_params: float, target: float) -> None:
        if math.isfinite(target):  # a diverged training has no loss to model (the original would crash)
            self._x.append([lr_exponent, float(depth), log_params])
            self._y.append(target)

    def propose(self, depth: int, log_params: float, rng: np.random.Generator) -> float:
        low = np.array([self.bounds[0], depth, log_params])
        high = np.array([self.bounds[1], depth, log_params])
        if len(self._y) < 2:
            return float(rng.uniform(*self.bounds))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the GP's convergence warnings on a handful of points
            self._gp.fit(np.array(self._x), np.array(self._y))

            def bound(x: np.ndarray) -> np.ndarray:
                mean, std = self._gp.predict(np.atleast_2d(x), return_std=True)
                return mean - 2.5 * std

            guesses = rng.uniform(low, high, size=(10_000, 3))
            values = bound(guesses)
            best, best_value = guesses[values.argmin()], float(values.min())
            for start in np.vstack([best, rng.uniform(low, high, size=(10, 3))]):
                found = minimize(lambda x: float(bound(x)[0]), start, bounds=np.vstack([low, high]).T,
                                 method="L-BFGS-B")
                if found.success and float(found.fun) < best_value:
                    best, best_value = found.x, float(found.fun)
        return float(np.clip(best, low, high)[0])


@dataclass(frozen=True)
class Settings:
    """The search: its time budget and split, training epochs, and the morphs' limits.

    ``max_networks`` caps each phase's networks (a demonstration or a test); the paper runs on time alone.
    ``widen_probability`` is not in the original (it only deepens): the chance that a bulk-up widens a random
    cell by ``widen_fraction`` of its units instead of deepening.
    """

    epochs: int
    time_budget_s: float | None = None
    budget_split: tuple[float, float, float] = (0.35, 0.40, 0.25)
    max_networks: tuple[int, int, int] | None = None
    cut_epochs: int | None = None  # None: round(epochs / 3), the original's
    max_conv: int = 3  # the paper's space: at most 3 conv and 3 linear hidden layers (the original's cap)
    max_linear: int = 3
    widen_probability: float = 0.0
    widen_fraction: float = 0.25
    augment: bool = True  # the original's horizontal flips and mixup while training (not the task's protocol)

    def __post_init__(self) -> None:
        if self.time_budget_s is None and self.max_networks is None:
            raise ValueError("bulk_and_cut: give time_budget_s or max_networks (or both): a search needs an end")
        if len(self.budget_split) != 3 or not math.isclose(sum(self.budget_split), 1.0) or min(self.budget_split) < 0:
            raise ValueError(f"budget_split: expected three shares >= 0 summing to 1, got {self.budget_split}")
        if self.epochs < 1 or (self.cut_epochs is not None and self.cut_epochs < 1):
            raise ValueError(f"epochs and cut_epochs: expected at least 1, got {self.epochs} and {self.cut_epochs}")
        if not 0.0 <= self.widen_probability <= 1.0 or not 0.0 < self.widen_fraction <= 1.0:
            raise ValueError(f"widen_probability in [0, 1] and widen_fraction in (0, 1] expected, got "
                             f"{self.widen_probability} and {self.widen_fraction}")

    @property
    def epochs_cut(self) -> int:
        return self.cut_epochs if self.cut_epochs is not None else max(1, round(self.epochs / 3))

    def options(self) -> dict[str, Any]:
        return {name: list(value) if isinstance(value, tuple) else value for name, value in asdict(self).items()}


@dataclass
class _Network:
    id: int
    model: nn.Sequential | None  # dropped once the network is behind two fronts: it can never be drawn again
    val_accuracy: float
    n_params: int
    cut_offspring: int = 0


@dataclass(frozen=True)
class Trained:
    """One network the search trained and measured: what it was (``config``), its row (``result``: the task's
    objectives, ``cost_s`` the wall-clock seconds from its morph to its measurement) and the search's wall-clock
    time when it was measured (``available_s``)."""

    config: dict[str, Any]
    result: Result
    available_s: float


def search(training: ModuleTraining, space: ConfigurationSpace, seed: int, settings: Settings,
           on_network: Callable[[Trained, nn.Module], None] | None = None) -> list[Trained]:
    """Run Bulk & Cut on the task behind ``training``; ``space`` is the task's, for the initial networks.

    ``on_network`` sees every network after its measurement (the module is the search's own: copy it to keep
    it). Torch's global random stream is forked (layer construction draws from it): the caller's is unchanged.
    """
    # torch's first Adam imports torch._dynamo (seconds): a cost of the process, not of the search's clock
    torch.optim.Adam([nn.Parameter(torch.zeros(1))])
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return _Search(training, space, seed, settings, on_network).run()


class _Search:
    def __init__(self, training: ModuleTraining, space: ConfigurationSpace, seed: int, settings: Settings,
                 on_network: Callable[[Trained, nn.Module], None] | None) -> None:
        self.training = training
        self.settings = settings
        self.rng = np.random.default_rng(seed)
        self.space = copy.deepcopy(space)
        self.space.seed(int(self.rng.integers(2**31)))
        self.learning_rates = (LearningRateModel((-5.0, 0.0), int(self.rng.integers(2**31))),
                               LearningRateModel((-5.0, -2.0), int(self.rng.integers(2**31))))
        self.batch_size = math.ceil(len(training.data.x_train) / 8)
        self.chance = 1.0 / training.data.n_classes
        self.population: list[_Network] = []
        self.trained: list[Trained] = []
        self.on_network = on_network
        self.started = time.perf_counter()

    def run(self) -> list[Trained]:
        for index, (phase, share) in enumerate(zip(PHASES, self.settings.budget_split)):
            began, count = time.perf_counter(), 0
            cap = None if self.settings.max_networks is None else self.settings.max_networks[index]
            budget = None if self.settings.time_budget_s is None else share * self.settings.time_budget_s
            # the original checks its phase's time before each network, so the last one may run past it
            while (cap is None or count < cap) and (budget is None or time.perf_counter() - began < budget):
                if not self._step(phase):
                    break  # no network can be morphed this way
                count += 1
        return self.trained

    def _parent(self, phase: str) -> _Network | None:
        """The original's "Paretslon-greedy" draw: the first front with probability 0.85 (or when the second is
        empty), else the second, less the networks this phase cannot morph."""
        points = np.array([[n.n_params, -n.val_accuracy] for n in self.population], dtype=float)
        ranks = moocore.pareto_rank(points)
        front = 0 if self.rng.random() < 0.85 or not np.any(ranks == 1) else 1
        candidates = [n for n, rank in zip(self.population, ranks) if rank == front]
        if phase == "bulk-up":
            candidates = [n for n in candidates if n.n_params <= 1e8 and self._can_grow(n.model)]
            if not candidates:
                return None
            weights = np.array([(100.0 * (n.val_accuracy - self.chance)) ** 2 for n in candidates])
            weights = weights / weights.sum() if weights.sum() > 0 else np.full(len(candidates), 1 / len(candidates))
            return candidates[int(self.rng.choice(len(candidates), p=weights))]
        candidates = [n for n in candidates if n.n_params >= 100 and self._can_cut(n.model)]
        fresh = [n for n in candidates if n.cut_offspring == 0]
        candidates = fresh or candidates
        return candidates[int(self.rng.integers(len(candidates)))] if candidates else None

    def _growable(self, model: nn.Sequential) -> tuple[list[Cell], list[Cell]]:
        """The conv and the linear cells, each list empty where that kind is absent or at its cap."""
        cells = hidden_cells(model)
        conv = [c for c in cells if c.kind == "conv"]
        linear = [c for c in cells if c.kind == "linear"]
        return (conv if len(conv) < self.settings.max_conv else []), (linear if len(linear) < self.settings.max_linear else [])

    def _can_grow(self, model: nn.Sequential | None) -> bool:
        return model is not None and any(self._growable(model))

    @staticmethod
    def _can_cut(model: nn.Sequential | None) -> bool:
        return model is not None and bool(hidden_cells(model))

    def _grow(self, model: nn.Sequential) -> tuple[nn.Sequential, str]:
        if self.rng.random() < self.settings.widen_probability:
            cells = hidden_cells(model)
            cell = cells[int(self.rng.integers(len(cells)))]
            width = list(model)[cell.index].weight.shape[0]
            n_new = max(1, round(self.settings.widen_fraction * width))
            return widen(model, cell, n_new, self.rng), f"widen {cell.kind} layer at {cell.index} by {n_new}"
        conv, linear = self._growable(model)
        # the original: a conv cell with probability 0.7 where both kinds can grow
        add_conv = bool(conv) and (not linear or self.rng.random() < 0.7)
        pool = conv if add_conv else linear
        cell = pool[int(self.rng.integers(len(pool)))]
        return deepen(model, cell), f"deepen after {cell.kind} layer at {cell.index}"

    def _step(self, phase: str) -> bool:
        began = time.perf_counter()
        parent: _Network | None = None
        teacher: nn.Module | None = None
        if phase == "initial":
            source = dict(self.space.sample_configuration())
            init_seed = int(self.rng.integers(2**31))
            model = self.training.new_module(source, init_seed)
            morph, info = "none", {"sampled": source, "init_seed": init_seed}
        else:
            parent = self._parent(phase)
            if parent is None or parent.model is None:
                return False
            if phase == "bulk-up":
                model, morph = self._grow(parent.model)
            else:
                amounts = {"head": self.rng.triangular(0.04, 0.05, 0.06),
                           "linear": self.rng.triangular(0.065, 0.075, 0.085),
                           "conv": self.rng.triangular(0.09, 0.10, 0.11)}
                model, morph = prune(parent.model, amounts, self.rng), "prune"
                teacher = parent.model
                parent.cut_offspring += 1
            info = {"parent": parent.id}
        model = model.to(self.training.device)
        n_params = self.training.parameter_count(model)
        depth = len(hidden_cells(model))
        cut = phase == "slim-down"
        optimiser = self.learning_rates[1 if cut else 0]
        lr_exponent = optimiser.propose(depth, math.log10(n_params), self.rng)
        epochs = self.settings.epochs_cut if cut else self.settings.epochs
        seed = int(self.rng.integers(2**31))  # the mini-batch order and the augmentation (initially: "init_seed")
        loss = _batch_loss(self.training.data.n_classes, teacher, self.settings.augment, seed)
        records = self.training.train(model, epochs, 10.0**lr_exponent, self.batch_size, seed, loss=loss)
        last = records[-1]
        # the optimiser's target: the final validation loss (phases 1-2), the final distillation loss (phase 3)
        target = last.train_loss if cut else self._validation_loss(model)
        optimiser.observe(lr_exponent, depth, math.log10(n_params), target)
        ended = time.perf_counter()
        network = _Network(len(self.population), model, last.val_accuracy, n_params)
        self.population.append(network)
        self._forget_hopeless()
        config = {"architecture": describe(model), "learning_rate": 10.0**lr_exponent, "batch_size": self.batch_size,
                  "epochs": epochs}
        info.update({"network": network.id, "seed": seed, "phase": phase, "morph": morph, "n_params": n_params,
                     "val_accuracy": last.val_accuracy, "test_accuracy": last.test_accuracy,
                     "train_loss": last.train_loss if math.isfinite(last.train_loss) else None,
                     "train_time_s": last.train_time_s, "device": str(self.training.device)})
        result = Result(objectives=self.training.objectives(last.val_accuracy, n_params), cost_s=ended - began,
                        info=info)
        trained = Trained(config, result, ended - self.started)
        self.trained.append(trained)
        if self.on_network is not None:
            self.on_network(trained, model)
        return True

    def _validation_loss(self, model: nn.Module) -> float:
        data = self.training.data
        model.eval()
        with torch.no_grad():
            x = torch.from_numpy(data.x_val).to(self.training.device)
            y = torch.from_numpy(data.y_val).to(self.training.device)
            return float(functional.cross_entropy(model(x), y))

    def _forget_hopeless(self) -> None:
        """Drop the weights of networks behind two fronts: their dominators stay, so they are never drawn again."""
        points = np.array([[n.n_params, -n.val_accuracy] for n in self.population], dtype=float)
        for network, rank in zip(self.population, moocore.pareto_rank(points)):
            if rank >= 2:
                network.model = None


def _batch_loss(n_classes: int, teacher: nn.Module | None, augment: bool, seed: int) -> BatchLoss | None:
    """The original's training loss: on inputs flipped horizontally (each with probability 0.5) and mixed up
    (each with a random partner, weight Beta(0.25, 0.25) per sample), the cross-entropy to the mixed one-hot labels,
    or with a teacher (the cut) the mean squared error to the teacher's logits of the same inputs. Without
    augmentation and teacher: None, the task's own cross-entropy."""
    if teacher is None and not augment:
        return None
    if teacher is not None:
        teacher.eval()
    generator = torch.Generator().manual_seed(seed)
    rng = np.random.default_rng(seed)

    def loss(model: nn.Module, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        targets = functional.one_hot(y, n_classes).to(x.dtype)
        if augment:
            flip = (torch.rand(len(x), generator=generator) > 0.5).to(x.device)
            x = torch.where(flip.view(-1, 1, 1, 1), x.flip(-1), x)  # images: NCHW, width last
            partner = torch.randperm(len(x), generator=generator).to(x.device)
            mix = torch.as_tensor(rng.beta(0.25, 0.25, size=len(x)), dtype=x.dtype, device=x.device)
            x = x * mix.view(-1, 1, 1, 1) + x[partner] * (1 - mix.view(-1, 1, 1, 1))
            targets = targets * mix[:, None] + targets[partner] * (1 - mix[:, None])
        logits = model(x)
        if teacher is not None:
            with torch.no_grad():
                taught = teacher(x)
            return functional.mse_loss(logits, taught)
        return -(targets * functional.log_softmax(logits, dim=1)).sum(dim=1).mean()

    return loss
