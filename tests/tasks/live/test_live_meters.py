"""Energy meters against copies of real sysfs layouts, and the real path on this machine."""

from __future__ import annotations

import math
import os
import shutil
import time
from pathlib import Path

import numpy as np
import pytest
import torch

from tasks.live.meters import (
    Ina3221Meter,
    MeterChoice,
    Rail,
    RaplMeter,
    choose_rails,
    counter_delta,
    find_ina3221_rails,
    find_rapl_zones,
    integrate_power,
    measure_energy,
    select_meter,
)


def test_integrate_power_is_exact_for_a_linear_ramp() -> None:
    times = np.sort(np.random.default_rng(0).uniform(0, 2, 50))
    power = 300 + 40 * times  # mW
    span = times[-1] - times[0]
    expected = 300 * span + 20 * (times[-1] ** 2 - times[0] ** 2)  # integral of 300 + 40 t
    assert integrate_power(times, power) == pytest.approx(expected, rel=1e-12)


def test_integrate_power_needs_two_samples() -> None:
    with pytest.raises(ValueError, match="two or more"):
        integrate_power(np.array([0.0]), np.array([1.0]))


def test_counter_delta_handles_one_wrap() -> None:
    assert counter_delta(100, 250, 1000) == 150
    assert counter_delta(900, 50, 1000) == 150


def test_tx2_rails_are_read_from_the_iio_layout(sysfs_fixtures: Path) -> None:
    rails = {r.name: r for r in find_ina3221_rails(sysfs_fixtures / "jetson-tx2")}
    assert set(rails) == {"VDD_SYS_GPU", "VDD_SYS_SOC", "VDD_4V0_WIFI", "VDD_IN", "VDD_SYS_CPU", "VDD_SYS_DDR"}
    assert rails["VDD_IN"].read_mw() == 2898.0
    assert [r.name for r in choose_rails(list(rails.values()))] == ["VDD_IN"]


def test_orin_rails_multiply_voltage_and_current(sysfs_fixtures: Path) -> None:
    rails = {r.name: r for r in find_ina3221_rails(sysfs_fixtures / "jetson-orin-nano")}
    assert set(rails) == {"VDD_IN", "VDD_CPU_GPU_CV", "VDD_SOC"}  # the shunt-sum channel is no rail
    assert rails["VDD_SOC"].read_mw() == pytest.approx(5072 * 456 / 1000)


def test_boards_without_a_total_rail_sum_all_rails(sysfs_fixtures: Path) -> None:
    rails = [r for r in find_ina3221_rails(sysfs_fixtures / "jetson-orin-nano") if r.name != "VDD_IN"]
    assert len(choose_rails(rails)) == 2


def test_ina3221_meter_integrates_a_changing_rail(sysfs_fixtures: Path, tmp_path: Path) -> None:
    root = tmp_path / "sys"
    shutil.copytree(sysfs_fixtures / "jetson-tx2", root)
    power_file = root / "bus/i2c/drivers/ina3221x/0-0041/iio:device1/in_power0_input"
    meter = Ina3221Meter(choose_rails(find_ina3221_rails(root)), interval_s=0.002)
    before = time.perf_counter()
    meter.start()
    time.sleep(0.2)
    # sysfs never shows a half-written value: replace the file whole, as the kernel's reads see it
    staged = power_file.with_name("staged")
    staged.write_text("5796\n")  # doubled
    os.replace(staged, power_file)
    replaced = time.perf_counter()
    time.sleep(0.2)
    energy = meter.stop()
    after = time.perf_counter()
    times, power = np.array(meter._times), np.array(meter._power)
    assert set(power) == {2898.0, 5796.0}
    # an independent rectangle sum brackets the trapezoid rule
    dt = np.diff(times)
    assert np.sum(power[:-1] * dt) <= energy <= np.sum(power[1:] * dt)
    # one sample after another: the old value until the file was replaced, the new one from then on
    assert power[0] == 2898.0 and np.all(np.diff(power) >= 0) and np.all(power[times >= replaced] == 5796.0)
    # the samples span the window this test measured around the meter (at least the two sleeps), not the sleeps'
    # nominal 0.4 s: a loaded machine oversleeps, and the energy follows the window the samples cover
    span = times[-1] - times[0]
    assert before <= times[0] and times[-1] <= after and span >= 0.4
    assert 2898 * span < energy < 5796 * span


def test_a_rail_read_failing_mid_measurement_fails_the_measurement() -> None:
    reads = iter([2898.0] * 5)
    meter = Ina3221Meter([Rail("VDD_IN", lambda: next(reads))], interval_s=0.001)  # StopIteration after 5
    meter.start()
    # the sampling thread ends at its sixth read; wait for that, not for a fixed time a loaded machine may outlast
    deadline = time.monotonic() + 60
    while meter._thread is not None and meter._thread.is_alive() and time.monotonic() < deadline:
        time.sleep(0.005)
    with pytest.raises(RuntimeError, match=r"ina3221\[VDD_IN\]: reading a rail failed during the measurement"):
        meter.stop()
    assert len(meter._times) == len(meter._power) == 5  # no time kept without its power


def test_rapl_zones_are_packages_only(sysfs_fixtures: Path) -> None:
    zones = find_rapl_zones(sysfs_fixtures / "intel-rapl")
    assert [z.name for z in zones] == ["package-0", "package-1"]
    assert zones[0].wrap_uj == 262143328850


def test_rapl_meter_sums_packages_across_a_wrap(sysfs_fixtures: Path, tmp_path: Path) -> None:
    root = tmp_path / "sys"
    shutil.copytree(sysfs_fixtures / "intel-rapl", root)
    zones = root / "class/powercap"
    meter = RaplMeter(find_rapl_zones(root))
    meter.start()
    (zones / "intel-rapl:0/energy_uj").write_text(str(47281936412 + 1_500_000) + "\n")
    (zones / "intel-rapl:1/energy_uj").write_text("500000\n")  # wrapped
    expected_uj = 1_500_000 + (262143328850 - 39917201663) + 500000
    assert meter.stop() == pytest.approx(expected_uj / 1000)


def test_select_meter_finds_each_board(sysfs_fixtures: Path) -> None:
    assert select_meter("auto", "cpu", sysfs_fixtures / "jetson-tx2").name == "ina3221[VDD_IN]"
    assert select_meter("auto", "cpu", sysfs_fixtures / "intel-rapl").name == "rapl[package-0,package-1]"
    assert select_meter("ina3221", "cpu", sysfs_fixtures / "intel-rapl").meter is None


def test_select_meter_explains_an_empty_machine(tmp_path: Path) -> None:
    choice = select_meter("auto", "cpu", tmp_path)
    assert choice.meter is None
    assert "INA3221" in choice.reason and "RAPL" in choice.reason and "NVML" in choice.reason
    assert "NVML" in select_meter("nvml", "cpu", tmp_path).reason


def test_select_meter_rejects_an_unknown_kind() -> None:
    with pytest.raises(ValueError, match="unknown meter 'joulemeter'"):
        select_meter("joulemeter")


def test_energy_on_this_machine_is_measured_or_absent_with_a_reason() -> None:
    model = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(64, 10))
    choice = select_meter()
    energy = measure_energy(model, (1, 8, 8), choice, min_seconds=0.1)
    if choice.meter is None:
        assert math.isnan(energy.mj) and energy.reason == choice.reason and energy.meter == "none"
    else:
        assert energy.mj > 0 and energy.passes >= 20


def test_energy_from_a_fixture_meter_is_per_example(sysfs_fixtures: Path) -> None:
    model = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(64, 10))
    choice = select_meter("ina3221", "cpu", sysfs_fixtures / "jetson-tx2")
    before = time.perf_counter()
    energy = measure_energy(model, (1, 8, 8), choice, batch_size=4, min_seconds=0.2)
    after = time.perf_counter()
    # constant 2898 mW over the metered window (its first to last sample), shared by passes * batch examples
    times = choice.meter._times  # type: ignore[union-attr]
    window = times[-1] - times[0]
    assert energy.mj == pytest.approx(2898 * window / (energy.passes * 4), rel=1e-9)
    # the window holds the timed passes and lies within the call: longer than the passes only by starting and
    # stopping the meter (its sampling thread's join: milliseconds, more on a loaded machine)
    assert energy.passes >= 20 and energy.seconds >= 0.2 and energy.seconds <= window <= after - before


def test_a_meter_failing_within_the_window_leaves_the_energy_absent_with_why() -> None:
    reads = iter([2898.0] * 3)
    choice = MeterChoice(Ina3221Meter([Rail("VDD_IN", lambda: next(reads))], interval_s=0.001), "")
    model = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(64, 10))
    energy = measure_energy(model, (1, 8, 8), choice, min_seconds=0.1)
    assert math.isnan(energy.mj) and energy.meter == "ina3221[VDD_IN]" and energy.passes >= 20
    assert energy.reason.startswith("the meter failed during the measurement: RuntimeError: ina3221[VDD_IN]: "
                                    "reading a rail failed during the measurement")


@pytest.mark.gpu
def test_nvml_meter_on_a_real_gpu() -> None:
    if not torch.cuda.is_available():
        pytest.skip("no CUDA GPU on this machine")
    choice = select_meter("nvml", "cuda")
    assert choice.meter is not None, choice.reason
    model = torch.nn.Sequential(torch.nn.Conv2d(3, 64, 3), torch.nn.ReLU(), torch.nn.Flatten(),
                                torch.nn.LazyLinear(10)).cuda()
    model(torch.rand(1, 3, 32, 32, device="cuda"))
    energy = measure_energy(model, (3, 32, 32), choice, min_seconds=1.0)
    print(f"NVML {choice.name}: {energy.mj:.4f} mJ per inference over {energy.passes} passes")
    assert energy.mj > 0
