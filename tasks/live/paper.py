"""Paper mode: the live CNN tasks under the exact protocol of the Bag-of-Baselines paper's experiment.

Guerrero-Viu, Hauns, Izquierdo, Miotto, Schrodi, Biedenkapp, Elsken, Deng, Lindauer, Hutter, "Bag of
Baselines for Multi-objective Joint Neural Architecture Search and Hyperparameter Optimization", ICML 2021
AutoML workshop (arXiv:2105.01015); its code is github automl/multi-obj-baselines. From that code
(``baselines/problems/flowers/flowernet.py`` and ``problem.py``, the same for ``fashion``):

- a configuration is trained from scratch for ``budget`` epochs (5..25, the methods' ``min_budget`` and
  ``max_budget``), Adam at ``lr_init``, cross-entropy, shuffled mini-batches of ``batch_size``;
- the two objectives, both minimised, are ``-100 * top-1 validation accuracy`` (percent) and
  ``log10(number of parameters)``;
- the reference point (Ax objective thresholds) is ``val_acc_1 = 0.0`` and ``num_params = 8.0``: 0 %
  accuracy and 10^8 parameters;
- training runs on the GPU where there is one, else the CPU.

The network is the suite's (``tasks.live.cnn``: the same layers in the same order as the paper's
``FlowerNet``). Unlike the plain ``cnn-*`` tasks nothing else is measured (no latency, no energy), so a
wall-clock budget buys what it bought the paper's methods: training and validation only.

Normalisation: the suite computes hypervolume on objectives scaled by each task's fixed bounds. The bounds
here are ``[-100, 0]`` for the accuracy objective and the exact extremes of log10(parameters) over the
space; the reference point is the paper's point scaled by the same bounds, so a normalised hypervolume
is the paper's hypervolume divided by the box ``100 * (upper - lower)`` (``PaperCNNTask.paper_units``).
"""

from __future__ import annotations

import math
import time
from pathlib import Path

import torch

from tasks.base import Config, Fidelity, Objective, Result
from tasks.live.cnn import Architecture, cnn_space, log10_parameter_bounds, make_model, parameter_count, train
from tasks.live.data import SHAPES
from tasks.threads import torch_threads
from tasks.live.task import LiveCNNTask
from tasks.live.training import ModuleTraining

#: the paper's fidelity: ``min_budget = 5``, ``max_budget = 25`` epochs in every method's example script
PAPER_EPOCHS = (5, 25)
#: the paper's reference point in its own units: 0 % accuracy (as -100 * accuracy) and log10(10^8) parameters
PAPER_REFERENCE = (0.0, 8.0)
ACCURACY = "neg_val_accuracy_pct"
PARAMS = "log10_params"
#: the demonstration variant: what makes a run fit on two CPU cores in seconds (documented as not the paper's)
DEMO_EPOCHS = (1, 2)
DEMO_RANGES: dict[str, tuple[int, int]] = {"conv_width": (16, 32), "fc_width": (2, 32), "batch_size": (16, 512)}


def paper_device() -> str:
    """The paper's choice: ``cuda`` where torch sees a GPU, else ``cpu`` (``flowernet.evaluate_network``)."""
    return "cuda" if torch.cuda.is_available() else "cpu"


class PaperCNNTask(LiveCNNTask):
    """A live CNN task under the paper's protocol: ``paper-flowers17``, ``paper-fashion-mnist``.

    Args:
        dataset: ``flowers17`` (the paper's 16x16 arrays) or ``fashion-mnist``.
        data_dir: folder of the data files (``BOB_FLOWERS17_DIR``, ``BOB_FASHION_MNIST_DIR``).
        device: torch device; None takes the paper's choice (``paper_device``).
        demo: the demonstration variant ``paper-<data>-demo``: the paper's objectives, bounds, reference
            point and data, but epochs 1..2 and narrower widths and batch sizes (``DEMO_RANGES``), so that
            a run fits on two CPU cores; its numbers are not the paper's protocol and are named apart.
    """

    version = "1"

    def __init__(self, dataset: str, data_dir: str | Path | None = None, device: str | None = None,
                 demo: bool = False) -> None:
        if dataset not in ("flowers17", "fashion-mnist"):
            raise ValueError(f"paper mode has the paper's data sets flowers17 and fashion-mnist, not {dataset!r}")
        super().__init__(dataset, data_dir, device or paper_device())
        self.name = f"paper-{dataset}" + ("-demo" if demo else "")
        self.space = cnn_space(self.name, **(DEMO_RANGES if demo else {}))
        self.fidelity = Fidelity("epochs", *(DEMO_EPOCHS if demo else PAPER_EPOCHS))
        input_shape, n_classes = SHAPES[dataset]
        # the bounds of the paper's full space also in the demo, so both share one normalisation
        low, high = log10_parameter_bounds(input_shape, n_classes)
        self.objectives = (
            Objective(ACCURACY, -100.0, 0.0, "-% top-1"),
            Objective(PARAMS, low, high, "log10(parameters)"),
        )
        # the paper's point scaled by the bounds, as Task.normalise scales every value
        self.reference_point = tuple((r - o.lower) / (o.upper - o.lower) for r, o in zip(PAPER_REFERENCE, self.objectives))

    @property
    def paper_units(self) -> float:
        """The factor from a normalised hypervolume to the paper's units (percent x decades of parameters)."""
        return math.prod(o.upper - o.lower for o in self.objectives)

    def training(self) -> ModuleTraining:
        """This task's protocol for a method that trains networks itself (``tasks.live.training``): its data,
        its network of a configuration, its training step and validation measurement, and its objectives."""
        data = self.data

        def objectives(val_accuracy: float, n_params: int) -> dict[str, float]:
            return {ACCURACY: -100.0 * val_accuracy, PARAMS: math.log10(n_params)}

        return ModuleTraining(data, self._device,
                              lambda config, seed: make_model(config, data.input_shape, data.n_classes, seed),
                              objectives)

    def _evaluate(self, config: Config, fidelity: float | None, seed: int) -> Result:
        epochs = self._epochs(fidelity)
        started = time.perf_counter()
        # one torch thread as every live task (tasks.live.measure): a seed's result on a CPU does not then
        # depend on the machine's core count
        with torch_threads(1):
            _, records = train(config, self.data, epochs, seed, device=self._device)
        last = records[-1]
        n_params = parameter_count(Architecture.from_config(config), self.data.input_shape, self.data.n_classes)
        return Result(objectives={ACCURACY: -100.0 * last.val_accuracy, PARAMS: math.log10(n_params)},
                      cost_s=time.perf_counter() - started, info=self._training_info(last, epochs, n_params))
