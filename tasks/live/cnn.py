"""The joint architecture + hyperparameter CNN space of the Bag-of-Baselines paper, its model and its training.

Izquierdo et al., "Bag of Baselines for Multi-objective Joint Neural Architecture Search and
Hyperparameter Optimization", ICML AutoML workshop 2021. Each conv layer is conv (same padding), ReLU,
optional batch norm and max-pool 2; then optional global average pooling (else flatten); ``n_fc_l``
hidden fully connected layers with ReLU; a linear output layer. Adam, cross-entropy.

Training is reproducible for a seed on CPU: the weights are drawn from a generator seeded by the
evaluation seed and the mini-batch order from another, so concurrent evaluations do not share state.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import Any, Callable, Mapping

import numpy as np
import torch
from ConfigSpace import (
    CategoricalHyperparameter,
    ConfigurationSpace,
    GreaterThanCondition,
    UniformFloatHyperparameter,
    UniformIntegerHyperparameter,
)
from torch import nn

from tasks.live.data import Dataset

MAX_LAYERS = 3
CONV_WIDTH = (16, 1024)
FC_WIDTH = (2, 512)
BATCH_SIZE = (1, 512)
KERNEL_SIZES = (7, 5, 3)
EPOCHS = (1, 25)
#: evaluation batches of the validation and test sets (memory only; results do not depend on it)
EVAL_BATCH = 1024


def cnn_space(
    name: str = "cnn",
    seed: int | None = None,
    conv_width: tuple[int, int] = CONV_WIDTH,
    fc_width: tuple[int, int] = FC_WIDTH,
    batch_size: tuple[int, int] = BATCH_SIZE,
) -> ConfigurationSpace:
    """The paper's joint space: layer counts, per-layer widths (active by condition) and training options.

    The width and batch-size ranges are the paper's unless given: a demonstration task narrows them so
    that a run fits on a laptop's CPU in seconds.
    """
    space = ConfigurationSpace(name=name, seed=seed)
    n_conv_l = UniformIntegerHyperparameter("n_conv_l", 1, MAX_LAYERS, default_value=2)
    n_fc_l = UniformIntegerHyperparameter("n_fc_l", 1, MAX_LAYERS, default_value=1)
    conv = [UniformIntegerHyperparameter(f"n_conv_{i}", *conv_width, default_value=min(max(32, conv_width[0]),
                                                                                         conv_width[1]), log=True)
            for i in range(MAX_LAYERS)]
    fc = [UniformIntegerHyperparameter(f"n_fc_{i}", *fc_width, default_value=min(max(64, fc_width[0]), fc_width[1]),
                                       log=True) for i in range(MAX_LAYERS)]
    space.add([
        n_conv_l, n_fc_l, *conv, *fc,
        CategoricalHyperparameter("kernel_size", list(KERNEL_SIZES), default_value=3),
        UniformFloatHyperparameter("lr_init", 1e-5, 1.0, default_value=1e-3, log=True),
        CategoricalHyperparameter("batch_norm", [False, True], default_value=True),
        UniformIntegerHyperparameter("batch_size", *batch_size, default_value=min(max(64, batch_size[0]),
                                                                                  batch_size[1]), log=True),
        CategoricalHyperparameter("global_avg_pooling", [False, True], default_value=False),
    ])
    space.add([GreaterThanCondition(conv[i], n_conv_l, i) for i in range(1, MAX_LAYERS)])
    space.add([GreaterThanCondition(fc[i], n_fc_l, i) for i in range(1, MAX_LAYERS)])
    return space


@dataclass(frozen=True)
class Architecture:
    """The network part of a configuration, with plain values (no optimiser settings)."""

    conv: tuple[int, ...]
    fc: tuple[int, ...]
    kernel_size: int
    batch_norm: bool
    global_avg_pooling: bool

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> Architecture:
        return cls(
            conv=tuple(int(config[f"n_conv_{i}"]) for i in range(int(config["n_conv_l"]))),
            fc=tuple(int(config[f"n_fc_{i}"]) for i in range(int(config["n_fc_l"]))),
            kernel_size=int(config["kernel_size"]),
            batch_norm=bool(config["batch_norm"]),
            global_avg_pooling=bool(config["global_avg_pooling"]),
        )


def build_model(arch: Architecture, input_shape: tuple[int, int, int], n_classes: int) -> nn.Sequential:
    channels, height, width = input_shape
    layers: list[nn.Module] = []
    for out in arch.conv:
        if height < 2 or width < 2:
            raise ValueError(f"{len(arch.conv)} conv layers pool a {input_shape[1:]} input below 1x1")
        layers += [nn.Conv2d(channels, out, arch.kernel_size, padding=arch.kernel_size // 2), nn.ReLU()]
        if arch.batch_norm:
            layers.append(nn.BatchNorm2d(out))
        layers.append(nn.MaxPool2d(2))
        channels, height, width = out, height // 2, width // 2
    if arch.global_avg_pooling:
        layers += [nn.AdaptiveAvgPool2d(1), nn.Flatten()]
        features = channels
    else:
        layers.append(nn.Flatten())
        features = channels * height * width
    for units in arch.fc:
        layers += [nn.Linear(features, units), nn.ReLU()]
        features = units
    layers.append(nn.Linear(features, n_classes))
    return nn.Sequential(*layers)


def parameter_count(arch: Architecture, input_shape: tuple[int, int, int], n_classes: int) -> int:
    """Trainable parameters of ``build_model(arch, ...)``, computed from the layer shapes alone."""
    channels, height, width = input_shape
    total = 0
    for out in arch.conv:
        total += channels * out * arch.kernel_size**2 + out + (2 * out if arch.batch_norm else 0)
        channels, height, width = out, height // 2, width // 2
    features = channels if arch.global_avg_pooling else channels * height * width
    for units in [*arch.fc, n_classes]:
        total += (features + 1) * units
        features = units
    return total


def log10_parameter_bounds(input_shape: tuple[int, int, int], n_classes: int) -> tuple[float, float]:
    """Exact extremes of log10(parameters) over the space.

    The count grows with every width, so its extremes lie at all-minimal or all-maximal widths; the
    discrete choices (layer counts, kernel, batch norm, pooling) are enumerated, because more conv layers
    can shrink a flattened layer.
    """
    counts = []
    for n_conv in range(1, MAX_LAYERS + 1):
        for n_fc in range(1, MAX_LAYERS + 1):
            for kernel in KERNEL_SIZES:
                for batch_norm in (False, True):
                    for pooling in (False, True):
                        for conv_w, fc_w in (CONV_WIDTH[:1], FC_WIDTH[:1]), (CONV_WIDTH[1:], FC_WIDTH[1:]):
                            arch = Architecture((conv_w[0],) * n_conv, (fc_w[0],) * n_fc, kernel, batch_norm, pooling)
                            counts.append(parameter_count(arch, input_shape, n_classes))
    return math.log10(min(counts)), math.log10(max(counts))


@dataclass(frozen=True)
class EpochRecord:
    """Metrics after one epoch; ``train_time_s`` is cumulative training time (evaluation excluded)."""

    epoch: int
    val_accuracy: float
    test_accuracy: float
    train_loss: float
    train_time_s: float


def make_model(config: Mapping[str, Any], data_shape: tuple[int, int, int], n_classes: int, seed: int) -> nn.Sequential:
    """The model of ``config`` with weights drawn reproducibly from ``seed``.

    The weights are torch's default initialisation of each layer (``reset_parameters``: Kaiming-uniform weights,
    uniform biases within 1/sqrt(fan-in)), drawn layer by layer in the same order from a generator seeded with
    ``seed``, so they equal ``torch.manual_seed(seed); build_model(...)``; but torch's global stream is left alone:
    other threads draw from it (a baseline's model fit next to a live evaluation), and an evaluation must neither
    disturb them nor wait for them.
    """
    with torch.device("meta"):  # shapes only: nothing drawn from the global stream
        model = build_model(Architecture.from_config(config), data_shape, n_classes)
    model = model.to_empty(device="cpu")
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for layer in model.modules():
            if isinstance(layer, (nn.Conv2d, nn.Linear)):
                nn.init.kaiming_uniform_(layer.weight, a=math.sqrt(5), generator=generator)
                fan_in = layer.weight[0].numel()
                bound = 1 / math.sqrt(fan_in)
                nn.init.uniform_(layer.bias, -bound, bound, generator=generator)
            elif isinstance(layer, nn.BatchNorm2d):
                layer.reset_parameters()  # ones, zeros and fresh running statistics: no draws
    return model


def accuracy(model: nn.Module, x: torch.Tensor, y: torch.Tensor) -> float:
    model.eval()
    correct = 0
    with torch.no_grad():
        for start in range(0, len(x), EVAL_BATCH):
            logits = model(x[start : start + EVAL_BATCH])
            correct += int((logits.argmax(dim=1) == y[start : start + EVAL_BATCH]).sum())
    return correct / len(x)


def train(
    config: Mapping[str, Any],
    data: Dataset,
    epochs: int,
    seed: int,
    on_epoch: Callable[[EpochRecord], None] | None = None,
    device: str | torch.device = "cpu",
) -> tuple[nn.Module, list[EpochRecord]]:
    """Train ``config`` for ``epochs`` epochs; returns the model and the metrics after every epoch.

    A diverged run (non-finite loss) keeps training: its accuracy is then what it is (chance level),
    which is the honest measurement of a too-large learning rate.
    """
    device = torch.device(device)
    model = make_model(config, data.input_shape, data.n_classes, seed).to(device)
    records = fit(model, data, epochs, float(config["lr_init"]), int(config["batch_size"]), seed, on_epoch=on_epoch,
                  device=device)
    return model, records


#: a training loss of (module, inputs, labels) of a mini-batch; None in ``fit`` is the cross-entropy of the module's
#: logits and the labels. The module is handed over so a loss may transform the inputs first (augmentation)
BatchLoss = Callable[[nn.Module, torch.Tensor, torch.Tensor], torch.Tensor]


def fit(
    model: nn.Module,
    data: Dataset,
    epochs: int,
    lr: float,
    batch_size: int,
    seed: int,
    loss: BatchLoss | None = None,
    on_epoch: Callable[[EpochRecord], None] | None = None,
    device: str | torch.device = "cpu",
) -> list[EpochRecord]:
    """The training protocol of the live tasks for a given module (``train`` builds one from a configuration):
    Adam at ``lr``, mini-batches of ``batch_size`` in an order drawn from ``seed``, validation and test
    accuracy after every epoch. ``model`` must be on ``device``; it is trained in place.

    ``loss`` replaces the cross-entropy (a method that trains networks itself, e.g. with augmented inputs or
    knowledge distillation from a teacher's logits); the protocol around it (optimiser, batches, measurement)
    stays.
    """
    device = torch.device(device)
    optimiser = torch.optim.Adam(model.parameters(), lr=lr)
    loss_fn = nn.CrossEntropyLoss()
    x_train = torch.from_numpy(data.x_train).to(device)
    y_train = torch.from_numpy(data.y_train).to(device)
    x_val, y_val = torch.from_numpy(data.x_val).to(device), torch.from_numpy(data.y_val).to(device)
    x_test, y_test = torch.from_numpy(data.x_test).to(device), torch.from_numpy(data.y_test).to(device)
    batch = int(batch_size)
    order_rng = torch.Generator().manual_seed(int(np.random.SeedSequence(seed).generate_state(1)[0]))
    records: list[EpochRecord] = []
    train_time = 0.0
    for epoch in range(1, epochs + 1):
        started = time.perf_counter()
        model.train()
        order = torch.randperm(len(x_train), generator=order_rng).to(device)
        total_loss = 0.0
        for start in range(0, len(order), batch):
            index = order[start : start + batch]
            optimiser.zero_grad(set_to_none=True)
            if loss is None:
                value = loss_fn(model(x_train[index]), y_train[index])
            else:
                value = loss(model, x_train[index], y_train[index])
            value.backward()
            optimiser.step()
            total_loss += float(value.detach()) * len(index)
        if device.type == "cuda":
            torch.cuda.synchronize(device)
        train_time += time.perf_counter() - started
        record = EpochRecord(epoch, accuracy(model, x_val, y_val), accuracy(model, x_test, y_test),
                             total_loss / len(order), train_time)
        records.append(record)
        if on_epoch is not None:
            on_epoch(record)
    return records
