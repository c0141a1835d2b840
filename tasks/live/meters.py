"""Energy meters that exist on real hardware, and the energy per inference measured with them.

- ``NvmlMeter``: the total-energy counter of an NVIDIA GPU (``nvmlDeviceGetTotalEnergyConsumption``, mJ,
  Volta and newer), read through ``nvidia-ml-py``.
- ``Ina3221Meter``: the INA3221 power monitors of an NVIDIA Jetson, sampled from sysfs and integrated
  over time. Two layouts exist: L4T R32 (TX2, Nano, Xavier) ``.../ina3221x/<bus>/iio:device<N>/``
  with ``rail_name_<k>`` and ``in_power<k>_input`` (mW); L4T R34+ (Orin) ``.../ina3221/<bus>/hwmon/hwmon<N>/``
  with ``in<k>_label``, ``in<k>_input`` (mV) and ``curr<k>_input`` (mA).
- ``RaplMeter``: Intel RAPL package counters under powercap (``intel-rapl:<N>/energy_uj``, wrapping at
  ``max_energy_range_uj``).

A meter measures the whole device (or board rail), idle share included, as the hardware reports it.
Where none exists, ``select_meter`` says why, and the energy is NaN with that reason: it is never
estimated in its place.
"""

from __future__ import annotations

import re
import threading
import time
from abc import ABC, abstractmethod
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np
import torch
from torch import nn

METER_KINDS = ("auto", "nvml", "ina3221", "rapl", "none")
#: rails that carry a Jetson module's total input power, preferred over summing sub-rails
TOTAL_RAILS = ("VDD_IN", "POM_5V_IN", "VIN_SYS_5V0")


class EnergyMeter(ABC):
    """Energy between ``start`` and ``stop``, in millijoules."""

    name: str

    @abstractmethod
    def start(self) -> None: ...

    @abstractmethod
    def stop(self) -> float: ...


def counter_delta(before: int, after: int, wrap: int) -> int:
    """The increase of a counter that wraps to 0 after ``wrap`` (one wrap at most between reads)."""
    return after - before if after >= before else after + wrap - before


def integrate_power(times_s: np.ndarray, power_mw: np.ndarray) -> float:
    """Energy in mJ of power samples (mW) at times (s), by the trapezoidal rule."""
    times_s, power_mw = np.asarray(times_s, dtype=float), np.asarray(power_mw, dtype=float)
    if times_s.shape != power_mw.shape or times_s.size < 2:
        raise ValueError(f"need two or more (time, power) samples of equal length, got {times_s.size} and {power_mw.size}")
    return float(np.sum((power_mw[1:] + power_mw[:-1]) * np.diff(times_s)) / 2.0)


# --- Intel RAPL ------------------------------------------------------------------------------------

@dataclass(frozen=True)
class RaplZone:
    name: str
    energy_file: Path
    wrap_uj: int

    def read_uj(self) -> int:
        return int(self.energy_file.read_text())


def find_rapl_zones(sys_root: Path) -> list[RaplZone]:
    """The top-level package zones (``intel-rapl:<N>`` named ``package-<N>``); sub-zones and psys are
    left out because they overlap the packages."""
    zones = []
    for folder in sorted((sys_root / "class" / "powercap").glob("intel-rapl:*")):
        if not re.fullmatch(r"intel-rapl:\d+", folder.name):
            continue
        name = (folder / "name").read_text().strip()
        if name.startswith("package"):
            zones.append(RaplZone(name, folder / "energy_uj", int((folder / "max_energy_range_uj").read_text())))
    return zones


class RaplMeter(EnergyMeter):
    """Sum of the RAPL package counters (CPU sockets), read before and after."""

    def __init__(self, zones: list[RaplZone]) -> None:
        if not zones:
            raise ValueError("RaplMeter needs at least one package zone")
        self._zones = zones
        self._before: list[int] = []
        self.name = "rapl[" + ",".join(z.name for z in zones) + "]"

    def start(self) -> None:
        self._before = [z.read_uj() for z in self._zones]

    def stop(self) -> float:
        after = [z.read_uj() for z in self._zones]
        return sum(counter_delta(b, a, z.wrap_uj) for b, a, z in zip(self._before, after, self._zones)) / 1000.0


# --- Jetson INA3221 --------------------------------------------------------------------------------

@dataclass(frozen=True)
class Rail:
    """One INA3221 channel: its name and how to read its power in mW."""

    name: str
    read_mw: Callable[[], float]


def _read_number(path: Path) -> float:
    return float(path.read_text().strip())


def find_ina3221_rails(sys_root: Path) -> list[Rail]:
    """The named rails of every INA3221 on the board, in either sysfs layout."""
    rails: list[Rail] = []
    drivers = sys_root / "bus" / "i2c" / "drivers"
    # L4T R32: iio devices with power in mW
    for device in sorted(drivers.glob("ina3221x/*/iio:device*")):
        for label in sorted(device.glob("rail_name_*")):
            k = label.name.rsplit("_", 1)[1]
            power = device / f"in_power{k}_input"
            if power.exists():
                rails.append(Rail(label.read_text().strip(), lambda p=power: _read_number(p)))
    # L4T R34+: hwmon devices with voltage (mV) and current (mA)
    for device in sorted(drivers.glob("ina3221/*/hwmon/hwmon*")):
        for label in sorted(device.glob("in*_label")):
            k = label.name[2:-len("_label")]
            volts, amps = device / f"in{k}_input", device / f"curr{k}_input"
            name = label.read_text().strip()
            if volts.exists() and amps.exists() and not name.lower().startswith("sum of"):
                rails.append(Rail(name, lambda v=volts, a=amps: _read_number(v) * _read_number(a) / 1000.0))
    return rails


def choose_rails(rails: list[Rail]) -> list[Rail]:
    """The module's total input rail where the board has one (sub-rails would double-count), else all."""
    for total in TOTAL_RAILS:
        chosen = [r for r in rails if r.name == total]
        if chosen:
            return chosen[:1]
    return rails


class Ina3221Meter(EnergyMeter):
    """Samples the chosen rails every ``interval_s`` on a thread and integrates their summed power.

    A sample is kept only whole (its time with the power read for it); a read that fails on the sampling
    thread makes ``stop`` raise, since an energy integrated over the samples before it would silently cover
    only part of the window (``measure_energy`` records the energy as absent, with the error)."""

    def __init__(self, rails: list[Rail], interval_s: float = 0.005) -> None:
        if not rails:
            raise ValueError("Ina3221Meter needs at least one rail")
        self._rails = rails
        self._interval = interval_s
        self._times: list[float] = []
        self._power: list[float] = []
        self._error: Exception | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.name = "ina3221[" + ",".join(r.name for r in rails) + "]"

    def _sample(self) -> None:
        at = time.perf_counter()
        power = sum(r.read_mw() for r in self._rails)
        self._times.append(at)
        self._power.append(power)

    def _run(self) -> None:
        try:
            while not self._stop.wait(self._interval):
                self._sample()
        except Exception as error:  # a sysfs read can fail in several ways (OSError, a garbled number)
            self._error = error

    def start(self) -> None:
        self._times, self._power, self._error = [], [], None
        self._stop.clear()
        self._sample()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def stop(self) -> float:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        if self._error is not None:
            raise RuntimeError(f"{self.name}: reading a rail failed during the measurement: "
                               f"{type(self._error).__name__}: {self._error}") from self._error
        self._sample()
        return integrate_power(np.array(self._times), np.array(self._power))


# --- NVIDIA NVML -----------------------------------------------------------------------------------

class NvmlMeter(EnergyMeter):
    """The GPU's total-energy counter (mJ since the driver loaded), read before and after."""

    def __init__(self, device: torch.device) -> None:
        import pynvml

        pynvml.nvmlInit()
        self._nvml = pynvml
        index = device.index if device.index is not None else torch.cuda.current_device()
        # CUDA and NVML number GPUs differently under CUDA_VISIBLE_DEVICES; the UUID names the same GPU
        uuid = getattr(torch.cuda.get_device_properties(index), "uuid", None)
        try:
            self._handle = pynvml.nvmlDeviceGetHandleByUUID(f"GPU-{uuid}")
        except pynvml.NVMLError:
            self._handle = pynvml.nvmlDeviceGetHandleByIndex(index)
        self._before = self._read()  # raises on GPUs without the counter (before Volta)
        self.name = f"nvml[{pynvml.nvmlDeviceGetName(self._handle)}]"

    def _read(self) -> int:
        return int(self._nvml.nvmlDeviceGetTotalEnergyConsumption(self._handle))

    def start(self) -> None:
        self._before = self._read()

    def stop(self) -> float:
        return float(self._read() - self._before)


# --- choosing a meter ------------------------------------------------------------------------------

@dataclass(frozen=True)
class MeterChoice:
    """The meter found (or None) and, when None, why: the reason recorded next to a NaN energy."""

    meter: EnergyMeter | None
    reason: str

    @property
    def name(self) -> str:
        return self.meter.name if self.meter is not None else "none"


def _try_nvml(device: torch.device) -> MeterChoice:
    if device.type != "cuda":
        return MeterChoice(None, f"NVML meters NVIDIA GPUs; the model runs on {device.type}")
    try:
        return MeterChoice(NvmlMeter(device), "")
    except Exception as error:  # NVML reports missing drivers and old GPUs by several error types
        return MeterChoice(None, f"NVML: {type(error).__name__}: {error}")


def _try_ina3221(sys_root: Path) -> MeterChoice:
    rails = find_ina3221_rails(sys_root)
    if not rails:
        return MeterChoice(None, f"no INA3221 rails under {sys_root}/bus/i2c/drivers (not a Jetson)")
    return MeterChoice(Ina3221Meter(choose_rails(rails)), "")


def _try_rapl(sys_root: Path) -> MeterChoice:
    try:
        zones = find_rapl_zones(sys_root)
        if not zones:
            return MeterChoice(None, f"no RAPL package zones under {sys_root}/class/powercap")
        meter = RaplMeter(zones)
        meter.start()  # the counters are root-only on patched kernels
        return MeterChoice(meter, "")
    except OSError as error:
        return MeterChoice(None, f"RAPL: {error}")


def select_meter(kind: str = "auto", device: str | torch.device = "cpu", sys_root: str | Path = "/sys") -> MeterChoice:
    """The energy meter for ``device``: ``auto`` tries NVML (GPU), then INA3221 (Jetson), then RAPL (CPU).

    Args:
        kind: one of ``auto``, ``nvml``, ``ina3221``, ``rapl``, ``none`` (energy deliberately not measured).
        device: the torch device the model runs on.
        sys_root: the sysfs mount point (tests point it at a copy of a real layout).
    """
    if kind not in METER_KINDS:
        raise ValueError(f"unknown meter {kind!r}; expected one of {', '.join(METER_KINDS)}")
    device, root = torch.device(device), Path(sys_root)
    if kind == "none":
        return MeterChoice(None, "energy not measured (meter 'none' chosen)")
    tries = {"nvml": lambda: _try_nvml(device), "ina3221": lambda: _try_ina3221(root), "rapl": lambda: _try_rapl(root)}
    if kind != "auto":
        return tries[kind]()
    order = ["nvml", "ina3221", "rapl"] if device.type == "cuda" else ["ina3221", "rapl"]
    reasons = []
    for name in order:
        choice = tries[name]()
        if choice.meter is not None:
            return choice
        reasons.append(choice.reason)
    if device.type != "cuda":
        reasons.insert(0, "NVML not tried: the model runs on cpu")
    return MeterChoice(None, "; ".join(reasons))


@dataclass(frozen=True)
class Energy:
    """Energy per inference (one example) in mJ, or NaN with ``reason``."""

    mj: float
    meter: str
    reason: str = ""
    passes: int = 0
    seconds: float = 0.0


def measure_energy(
    model: nn.Module,
    input_shape: tuple[int, ...],
    choice: MeterChoice,
    batch_size: int = 1,
    min_seconds: float = 1.0,
    min_passes: int = 20,
    device: str | torch.device | None = None,
) -> Energy:
    """Forward passes until both ``min_passes`` and ``min_seconds`` are reached, metered as a whole;
    the energy per example is the metered energy over the examples passed. Without a meter, or when the meter
    fails within the window, the energy is NaN with the reason (the model's other measurements stand)."""
    if choice.meter is None:
        return Energy(float("nan"), "none", choice.reason)
    device = torch.device(device) if device is not None else next(model.parameters()).device
    model = model.to(device).eval()
    x = torch.rand((batch_size, *input_shape), generator=torch.Generator().manual_seed(0)).to(device)
    passes = 0
    with torch.no_grad():
        model(x)  # warm-up outside the metered window
        if device.type == "cuda":
            torch.cuda.synchronize(device)
        choice.meter.start()
        started = time.perf_counter()
        while passes < min_passes or time.perf_counter() - started < min_seconds:
            model(x)
            passes += 1
            if device.type == "cuda" and passes % 10 == 0:
                torch.cuda.synchronize(device)
        if device.type == "cuda":
            torch.cuda.synchronize(device)
        seconds = time.perf_counter() - started
        try:
            total_mj = choice.meter.stop()
        except Exception as error:  # a meter that failed within the window measured nothing: absent, with why
            reason = f"the meter failed during the measurement: {type(error).__name__}: {error}".splitlines()[0]
            return Energy(float("nan"), choice.meter.name, reason, passes, seconds)
    return Energy(total_mj / (passes * batch_size), choice.meter.name, "", passes, seconds)
