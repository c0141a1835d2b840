"""Live CNN tasks: train the configuration for real and measure error, size, latency and energy.

Objectives (all minimised): ``error`` = 1 - validation accuracy, ``log10_params`` (trainable parameters),
``latency_ms`` (median batch-1 forward pass on the device that runs) and, in the ``-energy`` variants
only, ``energy_mj`` per inference from a real meter. The plain tasks still measure energy where a meter
exists and record it in ``Result.info`` (``energy_mj``, ``meter``), or record why not in
``info["missing"]``; an ``-energy`` task refuses to be built where no meter exists, because the run loop
would count every evaluation as failed. How each value is measured is ``tasks.live.measure``, which the
table builder uses too.
"""

from __future__ import annotations

import functools
import math
import threading
import time
from pathlib import Path
from typing import Any

import torch

from tasks.base import Config, Fidelity, Objective, Result, Task
from tasks.live.cnn import EPOCHS, Architecture, EpochRecord, cnn_space, log10_parameter_bounds, parameter_count
from tasks.live.data import SHAPES, Dataset, load_dataset
from tasks.live.measure import hardware, measure
from tasks.live.meters import select_meter

#: fixed latency normalisation range (ms, batch 1) per data set: the largest networks of the space take
#: hundreds of ms on one CPU thread at 28x28; the range is part of the task, never fitted to a run
LATENCY_UPPER_MS = {"digits": 100.0, "fashion-mnist": 1000.0, "flowers17": 500.0}
#: fixed energy normalisation range (mJ per inference)
ENERGY_UPPER_MJ = 1000.0
REFERENCE_POINT = 1.1


def log10_params(config: Config, dataset: str) -> float:
    """log10 of the trainable parameters of ``config``'s network on ``dataset``, from the layer shapes alone."""
    input_shape, n_classes = SHAPES[dataset]
    return math.log10(parameter_count(Architecture.from_config(config), input_shape, n_classes))


class LiveCNNTask(Task):
    """What the live CNN tasks (``CNNTask`` here, ``tasks.live.paper.PaperCNNTask``) share: the data set, read
    once at first use; the device, which decides the run's identity (``describe``); the parameter count
    known from the configuration; whole epochs as the fidelity; and the training part of each row's info.

    Args:
        dataset: a data set of ``tasks.live.data.SHAPES``.
        data_dir: folder of the data files (see ``tasks.live.data`` for the environment variables).
        device: torch device for training and measurement.
    """

    clock = "wall"
    #: the parameter count follows from the layer shapes, without training
    known = ("log10_params",)

    def __init__(self, dataset: str, data_dir: str | Path | None, device: str) -> None:
        self.dataset = dataset
        self._data_dir = data_dir
        self._device = torch.device(device)
        self._data_lock = threading.Lock()

    @functools.cached_property
    def data(self) -> Dataset:
        with self._data_lock:
            return load_dataset(self.dataset, self._data_dir)

    def data_hash(self) -> str:
        return self.data.sha256()

    @functools.cached_property
    def device_label(self) -> str:
        """The torch device and the hardware model behind it, e.g. ``cuda (NVIDIA H200)``."""
        return f"{self._device} ({hardware(self._device)})"

    def describe(self) -> dict[str, Any]:
        # the device and its hardware model decide the run's identity (suite.metadata.RunKey): latency and
        # energy are the hardware's, and training on a GPU is not bitwise the CPU's, so a run resumed on
        # another device, or on another GPU model, would mix the two
        return {**super().describe(), "device": self.device_label}

    def known_objectives(self, config: Config) -> dict[str, float]:
        """``log10_params`` computed from the layer shapes, the very value ``evaluate`` reports (no data read)."""
        return {"log10_params": log10_params(config, self.dataset)}

    def _epochs(self, fidelity: float | None) -> int:
        epochs = int(self.fidelity.max if fidelity is None else fidelity)  # type: ignore[union-attr]
        if fidelity is not None and epochs != fidelity:
            raise ValueError(f"task {self.name!r}: epochs must be a whole number, got {fidelity}")
        return epochs

    def _training_info(self, last: EpochRecord, epochs: int, n_params: int) -> dict[str, Any]:
        """What a row's info records of the training: accuracies, time, loss, epochs, size and device."""
        return {
            "val_accuracy": last.val_accuracy, "test_accuracy": last.test_accuracy, "train_time_s": last.train_time_s,
            "train_loss": last.train_loss if math.isfinite(last.train_loss) else None, "epochs": epochs,
            "n_params": n_params, "device": str(self._device),
        }


class CNNTask(LiveCNNTask):
    """The Bag-of-Baselines joint CNN space trained on one data set (Izquierdo et al., 2021).

    Args:
        dataset: ``digits``, ``fashion-mnist`` or ``flowers17``.
        data_dir: folder of the data files (see ``tasks.live.data`` for the environment variables).
        device: torch device for training and measurement (``cpu``, ``cuda``).
        meter: energy meter, ``auto`` or one of ``nvml``, ``ina3221``, ``rapl``, ``none``.
        energy_objective: make energy an objective (needs a meter; raises ValueError without one).
        latency_repeats: timed batch-1 passes (after 10 warm-up passes).
        sys_root: sysfs mount point where the meters are looked for.
    """

    #: 2: training on one torch thread and batch-1 latency always (``tasks.live.measure``)
    version = "2"

    def __init__(
        self,
        dataset: str,
        data_dir: str | Path | None = None,
        device: str = "cpu",
        meter: str = "auto",
        energy_objective: bool = False,
        latency_repeats: int = 50,
        sys_root: str | Path = "/sys",
    ) -> None:
        if dataset not in SHAPES:
            raise ValueError(f"unknown data set {dataset!r}; expected one of {', '.join(SHAPES)}")
        super().__init__(dataset, data_dir, device)
        self.name = f"cnn-{dataset}" + ("-energy" if energy_objective else "")
        self.space = cnn_space(self.name)
        self.fidelity = Fidelity("epochs", *EPOCHS)
        self._latency_repeats = latency_repeats
        self._meter = select_meter(meter, self._device, sys_root)
        input_shape, n_classes = SHAPES[dataset]
        low, high = log10_parameter_bounds(input_shape, n_classes)
        objectives = [
            Objective("error", 0.0, 1.0),
            Objective("log10_params", low, high, "log10(parameters)"),
            Objective("latency_ms", 0.0, LATENCY_UPPER_MS[dataset], "ms"),
        ]
        if energy_objective:
            if self._meter.meter is None:
                raise ValueError(f"task {self.name!r} has energy as an objective, but no energy meter is available "
                                 f"here ({self._meter.reason}); use cnn-{dataset}, which records energy where it can")
            objectives.append(Objective("energy_mj", 0.0, ENERGY_UPPER_MJ, "mJ"))
        self.objectives = tuple(objectives)
        self.reference_point = (REFERENCE_POINT,) * len(self.objectives)

    def _evaluate(self, config: Config, fidelity: float | None, seed: int) -> Result:
        epochs = self._epochs(fidelity)
        started = time.perf_counter()
        measured = measure(config, self.data, epochs, seed, self._meter, self._device, self._latency_repeats)
        last, latency, energy = measured.last, measured.latency, measured.energy
        objectives = {"error": 1.0 - last.val_accuracy, "log10_params": math.log10(measured.n_params),
                      "latency_ms": latency.median_ms}
        info: dict[str, Any] = {
            **self._training_info(last, epochs, measured.n_params), "latency_q25_ms": latency.q25_ms,
            "latency_q75_ms": latency.q75_ms, "meter": energy.meter,
            "energy_mj": energy.mj if math.isfinite(energy.mj) else None,
        }
        if math.isfinite(energy.mj):
            if "energy_mj" in self.objective_names:
                objectives["energy_mj"] = energy.mj
        else:
            info["missing"] = {"energy_mj": energy.reason}
        return Result(objectives=objectives, cost_s=time.perf_counter() - started, info=info)
