"""The one measurement protocol of the live CNN tasks and of the tables built from them.

``measure`` trains a configuration, counts its parameters, times batch-1 inference and meters its energy;
``CNNTask.evaluate`` and ``tasks.live.build_table`` both call it, so a live evaluation and a table row of
the same configuration, seed and epochs are the same measurement.
"""

from __future__ import annotations

import platform
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

import torch

from tasks.live.cnn import Architecture, EpochRecord, parameter_count, train
from tasks.live.data import Dataset
from tasks.live.latency import Latency, measure_latency
from tasks.live.meters import Energy, MeterChoice, measure_energy
from tasks.threads import torch_threads

#: the settings of ``measure``, written into a built table's provenance: a resume refuses to mix protocols
PROTOCOL: dict[str, Any] = {
    "torch_threads": 1,
    "latency_batch_size": 1,
    "latency_warmup": 10,
    "energy_batch_size": 1,
    "energy_min_seconds": 1.0,
    "energy_min_passes": 20,
}

def hardware(device: str | torch.device) -> str:
    """The model of what ``device`` runs on: the GPU's name, else the CPU's (``/proc/cpuinfo``) or a board's
    (a Jetson's device tree), else the machine type. Linux leaves ``platform.processor()`` empty."""
    device = torch.device(device)
    if device.type == "cuda":
        # a task built for a GPU on a machine without one still describes itself (its runs are refused)
        return torch.cuda.get_device_name(device) if torch.cuda.is_available() else "no CUDA device here"
    for path, field in (("/proc/device-tree/model", None), ("/proc/cpuinfo", "model name")):
        try:
            text = Path(path).read_text(errors="replace")
        except OSError:
            continue
        if field is None:
            return text.strip("\x00\n ")
        found = next((line.split(":", 1)[1].strip() for line in text.splitlines() if line.startswith(field)), None)
        if found:
            return found
    return platform.machine() or "unknown"


# A meter integrates over a window of the whole device: two windows open at once would each count both.
_METER_LOCK = threading.Lock()


@dataclass(frozen=True)
class Measurement:
    """What one training run of a configuration measured: metrics after every epoch, size, latency, energy."""

    records: tuple[EpochRecord, ...]
    n_params: int
    latency: Latency
    energy: Energy

    @property
    def last(self) -> EpochRecord:
        return self.records[-1]


def measure(
    config: Mapping[str, Any],
    data: Dataset,
    epochs: int,
    seed: int,
    meter: MeterChoice,
    device: str | torch.device = "cpu",
    latency_repeats: int = 50,
) -> Measurement:
    """Train ``config`` on ``data`` for ``epochs`` epochs from ``seed``, then measure the trained model.

    One torch thread throughout (training, latency and energy): a CPU's result then does not depend on
    how many cores the machine has (the thread count changes the order of floating-point sums, hence
    the trained weights), concurrent evaluations (one per Dask worker or thread) do not compete for
    cores, and it is how the shipped table ``cnn-digits-mf`` was measured. Latency and energy use batch
    1: one request at a time is what an edge device serves. On a GPU the thread count only affects the
    host side, and latency is timed with CUDA events (``tasks.live.latency``).

    Args:
        config: a configuration of the live CNN space.
        data: the data set to train and validate on.
        epochs: training epochs; metrics are recorded after each.
        seed: draws the initial weights and the mini-batch order.
        meter: the energy meter (``tasks.live.meters.select_meter``); without one the energy is NaN with
            the meter's reason.
        device: torch device for training and measurement.
        latency_repeats: timed forward passes (after ``PROTOCOL["latency_warmup"]`` untimed ones).
    """
    with torch_threads(PROTOCOL["torch_threads"]):
        model, records = train(config, data, epochs, seed, device=device)
        latency = measure_latency(model, data.input_shape, PROTOCOL["latency_batch_size"],
                                  warmup=PROTOCOL["latency_warmup"], repeats=latency_repeats, device=device,
                                  cpu_threads=PROTOCOL["torch_threads"])
        with _METER_LOCK:
            energy = measure_energy(model, data.input_shape, meter, PROTOCOL["energy_batch_size"],
                                    min_seconds=PROTOCOL["energy_min_seconds"],
                                    min_passes=PROTOCOL["energy_min_passes"], device=device)
    n_params = parameter_count(Architecture.from_config(config), data.input_shape, data.n_classes)
    return Measurement(tuple(records), n_params, latency, energy)
