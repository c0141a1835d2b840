"""The live CNN tasks: registered, bounded, and a real evaluation on digits."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Callable

import pytest

from tasks import TASKS, make_task
from tasks.live.meters import select_meter

SMALL = {"n_conv_l": 1, "n_conv_0": 16, "n_fc_l": 1, "n_fc_0": 16, "kernel_size": 3, "lr_init": 0.01,
         "batch_norm": False, "batch_size": 128, "global_avg_pooling": False}


def test_live_tasks_are_registered() -> None:
    for name in ("cnn-digits", "cnn-fashion-mnist", "cnn-flowers17", "cnn-digits-energy", "cnn-digits-mf"):
        assert name in TASKS


def test_task_shape_without_loading_data() -> None:
    task = make_task("cnn-fashion-mnist")
    assert task.clock == "wall" and task.objective_names == ["error", "log10_params", "latency_ms"]
    assert task.fidelity is not None and (task.fidelity.min, task.fidelity.max) == (1, 25)
    assert task.objectives[0].lower == 0 and task.objectives[0].upper == 1
    assert task.reference_point == (1.1, 1.1, 1.1)


@pytest.mark.slow
def test_digits_evaluation_measures_error_size_and_latency() -> None:
    task = make_task("cnn-digits")
    result = task.evaluate(SMALL, fidelity=1, seed=0)
    assert result.status == "ok"
    assert 0 <= result.objectives["error"] <= 1
    assert result.objectives["error"] == pytest.approx(1 - result.info["val_accuracy"])
    # conv 1->16 (3x3) + flatten 16*4*4 -> 16 -> 10
    assert result.objectives["log10_params"] == pytest.approx(math.log10(160 + 257 * 16 + 170))
    assert result.info["latency_q25_ms"] <= result.objectives["latency_ms"] <= result.info["latency_q75_ms"]
    assert result.info["epochs"] == 1 and result.cost_s >= result.info["train_time_s"] > 0
    if select_meter().meter is None:
        assert result.info["energy_mj"] is None and "energy_mj" in result.info["missing"]


def test_energy_variant_refuses_without_a_meter() -> None:
    if select_meter().meter is not None:
        pytest.skip("this machine has an energy meter")
    with pytest.raises(ValueError, match="no energy meter is available"):
        make_task("cnn-digits-energy")


def test_fractional_epochs_are_rejected() -> None:
    with pytest.raises(ValueError, match="whole number"):
        make_task("cnn-digits").evaluate(SMALL, fidelity=1.5, seed=0)


def test_unknown_dataset_is_rejected() -> None:
    from tasks.live.task import CNNTask

    with pytest.raises(ValueError, match="unknown data set 'cifar'"):
        CNNTask("cifar")


@pytest.mark.slow
def test_flowers17_evaluation_from_a_data_dir(shared_data: Callable[[str], Path]) -> None:
    from tasks.live.task import CNNTask

    task = CNNTask("flowers17", data_dir=shared_data("flowers17-16px"))
    result = task.evaluate(SMALL, fidelity=1, seed=0)
    assert result.status == "ok" and 0 <= result.objectives["error"] <= 1
    # conv 3->16 (3x3) + flatten 16*8*8 -> 16 -> 17 classes
    assert result.info["n_params"] == 3 * 9 * 16 + 16 + (1024 + 1) * 16 + 17 * 17
    assert task.objectives[2].upper == 500.0
