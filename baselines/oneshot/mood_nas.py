"""MOOD-NAS: a DARTS supernet over the NAS-Bench-201 cell with a complexity regulariser, swept over its strength.

Own code on torch: no maintained library here trains a DARTS supernet over the NAS-Bench-201 cell (NNI and
naslib would be new dependencies that pull their own torch and search-space stacks). The cell and its
operations are NAS-Bench-201's (Dong and Yang, ICLR 2020): four nodes, six edges in the order of its arch
string, five operations per edge.
"""

from __future__ import annotations

import functools
import time
from dataclasses import dataclass
from typing import Any, Callable, TypeVar

import numpy as np
import torch
from torch import nn
from torch.nn import functional

from tasks.threads import torch_threads

_Function = TypeVar("_Function", bound=Callable[..., Any])


def _own_torch_state(function: _Function) -> _Function:
    """Run ``function`` on one torch thread with a forked global random stream (module initialisation draws
    from it), both restored after: a caller's torch settings and random state are not the search's to change."""

    @functools.wraps(function)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        with torch_threads(1), torch.random.fork_rng():
            return function(*args, **kwargs)

    return wrapper  # type: ignore[return-value]

#: NAS-Bench-201's operations, by its names
OPS = ("none", "skip_connect", "nor_conv_1x1", "nor_conv_3x3", "avg_pool_3x3")
#: the cell's edges (to node, from node) in the order of its arch string |a~0|+|b~0|c~1|+|d~0|e~1|f~2|
EDGES = ((1, 0), (2, 0), (2, 1), (3, 0), (3, 1), (3, 2))


def arch_string(ops: list[str]) -> str:
    """NAS-Bench-201's arch string of one operation per edge (``EDGES`` order)."""
    o = ops
    return f"|{o[0]}~0|+|{o[1]}~0|{o[2]}~1|+|{o[3]}~0|{o[4]}~1|{o[5]}~2|"


def _operation(name: str, channels: int) -> nn.Module:
    if name == "none":
        return nn.Identity()  # never run: a cell skips "none" (it adds zero)
    if name == "skip_connect":
        return nn.Identity()
    if name == "avg_pool_3x3":
        return nn.AvgPool2d(3, stride=1, padding=1, count_include_pad=False)
    size = 1 if name == "nor_conv_1x1" else 3
    return nn.Sequential(nn.ReLU(), nn.Conv2d(channels, channels, size, padding=size // 2, bias=False),
                         nn.BatchNorm2d(channels))  # NB201's ReLU-conv-BN


class _Cell(nn.Module):
    """One cell: each edge holds its candidate operations (all of ``OPS`` in the supernet, one in a discrete cell),
    summed with the weights given (a discrete cell: weight 1)."""

    def __init__(self, channels: int, choices: list[tuple[str, ...]]) -> None:
        super().__init__()
        self.choices = choices
        self.edges = nn.ModuleList(nn.ModuleList(_operation(op, channels) for op in ops) for ops in choices)

    def forward(self, x: torch.Tensor, weights: torch.Tensor | None) -> torch.Tensor:
        nodes = [x]
        for to in (1, 2, 3):
            parts = [op(nodes[source]) if weights is None else weights[edge, index] * op(nodes[source])
                     for edge, (target, source) in enumerate(EDGES) if target == to
                     for index, op in enumerate(self.edges[edge])
                     if self.choices[edge][index] != "none"]  # zero adds nothing: no forward pass for it
            nodes.append(torch.stack(parts).sum(0) if parts else torch.zeros_like(x))
        return nodes[3]


class Network(nn.Module):
    """Stem, ``n_cells`` cells sharing one architecture, global pooling and a linear classifier.

    With ``cell`` given (one operation per edge) the network is that discrete cell; otherwise a supernet whose
    architecture parameters ``alpha`` (edges x operations) weight every operation through a softmax.
    """

    def __init__(self, in_channels: int, n_classes: int, channels: int, n_cells: int,
                 cell: list[str] | None = None) -> None:
        super().__init__()
        choices = [OPS] * len(EDGES) if cell is None else [(op,) for op in cell]
        self.stem = nn.Sequential(nn.Conv2d(in_channels, channels, 3, padding=1, bias=False), nn.BatchNorm2d(channels))
        self.cells = nn.ModuleList(_Cell(channels, choices) for _ in range(n_cells))
        self.alpha = nn.Parameter(1e-3 * torch.randn(len(EDGES), len(OPS))) if cell is None else None
        self.head = nn.Sequential(nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(channels, n_classes))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.stem(x)
        weights = None if self.alpha is None else functional.softmax(self.alpha, dim=-1)
        for cell in self.cells:
            x = cell(x, weights)
        return self.head(x)

    def weight_parameters(self) -> list[nn.Parameter]:
        return [p for name, p in self.named_parameters() if name != "alpha"]


def operation_parameters(channels: int) -> np.ndarray:
    """Trainable parameters of each operation (``OPS`` order) at ``channels`` channels, counted from the modules."""
    return np.array([sum(p.numel() for p in _operation(op, channels).parameters()) for op in OPS], dtype=float)


def expected_size(alpha: torch.Tensor, sizes: torch.Tensor) -> torch.Tensor:
    """The regulariser: the cell's expected parameter count under the softmax of ``alpha``, as a fraction of
    the largest cell's (every edge its largest operation), so nu is on the scale of the cross-entropy."""
    return (functional.softmax(alpha, dim=-1) * sizes).sum() / (sizes.max() * alpha.shape[0])


@dataclass(frozen=True)
class SearchResult:
    """One supernet's outcome: the discrete cell (argmax per edge), its arch string and what it cost."""

    nu: float
    cell: list[str]
    arch: str
    alpha: list[list[float]]
    cpu_s: float  # CPU seconds of the search (one thread: its wall time on an idle core)
    search_val_error: float  # the supernet's validation error at the end


@dataclass(frozen=True)
class Settings:
    """The supernet and its training: channels, cells, steps (each one weight and one architecture step), batch."""

    channels: int = 8
    n_cells: int = 2
    steps: int = 300
    batch: int = 64
    weight_lr: float = 0.05
    alpha_lr: float = 3e-3


@_own_torch_state
def search(x_train: np.ndarray, y_train: np.ndarray, x_val: np.ndarray, y_val: np.ndarray, n_classes: int,
           nu: float, seed: int, settings: Settings = Settings()) -> SearchResult:
    """Train one supernet with regulariser strength ``nu`` and return its discrete cell.

    First-order DARTS (Liu, Simonyan and Yang, ICLR 2019): alternating steps, the weights by SGD on a training
    batch, the architecture parameters by Adam on a validation batch of cross-entropy + nu * expected size
    (``expected_size``: the MOOD-NAS idea of sweeping a complexity penalty, here the expected parameter count,
    not an L1/L2 norm of the weights). Runs on the CPU in one thread.
    """
    started = time.process_time()
    generator = torch.Generator().manual_seed(seed)
    torch.manual_seed(seed)
    model = Network(x_train.shape[1], n_classes, settings.channels, settings.n_cells)
    sizes = torch.tensor(operation_parameters(settings.channels), dtype=torch.float32)
    weights = torch.optim.SGD(model.weight_parameters(), lr=settings.weight_lr, momentum=0.9, weight_decay=3e-4)
    architecture = torch.optim.Adam([model.alpha], lr=settings.alpha_lr, betas=(0.5, 0.999), weight_decay=1e-3)
    xt, yt = torch.from_numpy(x_train), torch.from_numpy(y_train)
    xv, yv = torch.from_numpy(x_val), torch.from_numpy(y_val)
    model.train()
    for _ in range(settings.steps):
        batch = torch.randint(len(yt), (settings.batch,), generator=generator)
        weights.zero_grad()
        functional.cross_entropy(model(xt[batch]), yt[batch]).backward()
        nn.utils.clip_grad_norm_(model.weight_parameters(), 5.0)
        weights.step()
        batch = torch.randint(len(yv), (settings.batch,), generator=generator)
        architecture.zero_grad()
        loss = functional.cross_entropy(model(xv[batch]), yv[batch]) + nu * expected_size(model.alpha, sizes)
        loss.backward()
        architecture.step()
    model.eval()
    with torch.no_grad():
        val_error = float((model(xv).argmax(1) != yv).float().mean())
        alpha = model.alpha.detach()
    cell = [OPS[i] for i in alpha.argmax(dim=1).tolist()]
    return SearchResult(nu, cell, arch_string(cell), alpha.tolist(), time.process_time() - started, val_error)


@_own_torch_state
def train_cell(cell: list[str], x_train: np.ndarray, y_train: np.ndarray, x_test: np.ndarray, y_test: np.ndarray,
               n_classes: int, seed: int, settings: Settings = Settings()) -> tuple[float, int]:
    """The discrete cell trained from scratch on the search data: (test error, trainable parameters)."""
    torch.manual_seed(seed)
    generator = torch.Generator().manual_seed(seed)
    model = Network(x_train.shape[1], n_classes, settings.channels, settings.n_cells, cell=cell)
    optimiser = torch.optim.SGD(model.parameters(), lr=settings.weight_lr, momentum=0.9, weight_decay=3e-4)
    xt, yt = torch.from_numpy(x_train), torch.from_numpy(y_train)
    model.train()
    for _ in range(settings.steps):
        batch = torch.randint(len(yt), (settings.batch,), generator=generator)
        optimiser.zero_grad()
        functional.cross_entropy(model(xt[batch]), yt[batch]).backward()
        optimiser.step()
    model.eval()
    with torch.no_grad():
        error = float((model(torch.from_numpy(x_test)).argmax(1) != torch.from_numpy(y_test)).float().mean())
    return error, sum(p.numel() for p in model.parameters())
