"""Paper mode (the paper's objectives, reference point and fidelity) and the live tasks' known objective."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Callable

import numpy as np
import pytest

from analysis.indicators import hypervolume
from tasks import TASKS, make_task
from tasks.base import to_python
from tasks.live.cnn import Architecture, build_model, cnn_space
from tasks.live.data import SHAPES
from tasks.live.paper import PaperCNNTask

SMALL = {"n_conv_l": 1, "n_conv_0": 16, "n_fc_l": 1, "n_fc_0": 16, "kernel_size": 3, "lr_init": 0.01,
         "batch_norm": False, "batch_size": 128, "global_avg_pooling": False}


def test_paper_tasks_are_registered_with_the_papers_protocol() -> None:
    for name in ("paper-flowers17", "paper-fashion-mnist", "paper-flowers17-demo", "paper-fashion-mnist-demo"):
        assert name in TASKS
    task = make_task("paper-flowers17")  # no data is read to describe it
    assert task.clock == "wall" and task.objective_names == ["neg_val_accuracy_pct", "log10_params"]
    assert task.fidelity is not None and (task.fidelity.min, task.fidelity.max) == (5, 25)
    assert task.known == ("log10_params",)
    demo = make_task("paper-flowers17-demo")
    assert demo.fidelity is not None and (demo.fidelity.min, demo.fidelity.max) == (1, 2)
    # the demo shares the paper task's normalisation, so their hypervolumes are in one unit
    assert demo.objectives == task.objectives and demo.reference_point == task.reference_point


@pytest.mark.parametrize("name", ["paper-flowers17", "paper-fashion-mnist"])
def test_reference_point_is_the_papers_point(name: str) -> None:
    task = make_task(name)
    accuracy, params = task.objectives
    assert (accuracy.lower, accuracy.upper) == (-100.0, 0.0)
    # (0 %, 10^8 parameters) in the paper's units lands exactly on the task's normalised reference point
    assert task.normalise(np.array([0.0, 8.0])) == pytest.approx(task.reference_point, rel=1e-12, abs=0)
    assert task.reference_point == (1.0, (8.0 - params.lower) / (params.upper - params.lower))


def test_flowers_smallest_network_is_the_lower_bound() -> None:
    # 1 conv of 16 3x3 filters on 3 channels (448), global pooling -> 16 -> 2 hidden units (34) -> 17 classes (51)
    assert make_task("paper-flowers17").objectives[1].lower == pytest.approx(math.log10(448 + 34 + 51), rel=1e-12)


def test_normalised_hypervolume_is_the_papers_hypervolume_scaled() -> None:
    task = make_task("paper-flowers17")
    # by hand, reference (0, 8): (-80 %, 6) covers 80 x 2 = 160; (-60 %, 4) adds 60 x (6 - 4) = 120;
    # (-90 %, 8.01) lies beyond 10^8 parameters and adds nothing (as an Ax objective threshold)
    points = np.array([[-80.0, 6.0], [-60.0, 4.0], [-90.0, 8.01]])
    normalised = hypervolume(task.normalise(points), np.array(task.reference_point))
    assert normalised * task.paper_units == pytest.approx(280.0, rel=1e-12)


@pytest.mark.parametrize("dataset", ["digits", "fashion-mnist", "flowers17"])
def test_known_parameter_count_matches_torch(dataset: str) -> None:
    task = make_task(f"cnn-{dataset}")
    input_shape, n_classes = SHAPES[dataset]
    for config in cnn_space(seed=3).sample_configuration(12):
        config = to_python(dict(config))
        model = build_model(Architecture.from_config(config), input_shape, n_classes)
        counted = sum(p.numel() for p in model.parameters() if p.requires_grad)
        assert task.known_objectives(config) == {"log10_params": pytest.approx(math.log10(counted), rel=1e-14)}


@pytest.mark.slow
def test_known_objective_equals_what_evaluate_reports() -> None:
    task = make_task("cnn-digits")
    assert task.known == ("log10_params",)
    configs = [SMALL, {**SMALL, "n_conv_l": 2, "n_conv_1": 24, "batch_norm": True},
               {**SMALL, "global_avg_pooling": True, "n_fc_l": 2, "n_fc_1": 5, "kernel_size": 5}]
    for config in configs:
        result = task.evaluate(config, fidelity=1, seed=0)
        assert result.status == "ok"
        assert task.known_objectives(config)["log10_params"] == result.objectives["log10_params"]


def test_paper_evaluation_on_flowers(shared_data: Callable[[str], Path]) -> None:
    task = PaperCNNTask("flowers17", data_dir=shared_data("flowers17-16px"), device="cpu", demo=True)
    result = task.evaluate(SMALL, fidelity=1, seed=0)
    assert result.status == "ok"
    assert result.objectives["neg_val_accuracy_pct"] == -100.0 * result.info["val_accuracy"]
    assert result.objectives["log10_params"] == task.known_objectives(SMALL)["log10_params"]
    # conv 3->16 (3x3, 448) + flatten 16*8*8 = 1024 -> 16 (16,400) -> 17 classes (289)
    assert result.info["n_params"] == 448 + 16400 + 289
    assert result.info["epochs"] == 1 and result.info["device"] == "cpu"


def test_a_run_measured_on_the_cpu_is_not_resumed_on_a_gpu(shared_data: Callable[[str], Path], tmp_path: Path) -> None:
    # the device is part of the run's key: rows trained on the CPU and on a GPU must not make one run
    from suite.lifecycle import run_state
    from suite.metadata import RunMetadata
    from suite.results_format import ResultsError, run_folder
    from suite.spec import Budget, RunSpec
    from suite.writer import RunWriter

    folder = shared_data("flowers17-16px")
    on_cpu, on_gpu = (PaperCNNTask("flowers17", data_dir=folder, device=d, demo=True) for d in ("cpu", "cuda"))
    spec = RunSpec("random_search", on_cpu.name, 0, Budget(evaluations=3))
    RunWriter(run_folder(tmp_path, spec.experiment, spec.task, spec.baseline, spec.seed),
              RunMetadata.new(spec, on_cpu.describe(), {})).close()
    assert run_state(spec, tmp_path, on_cpu) == ("partial", 0)
    with pytest.raises(ResultsError, match=r"holds a run with device 'cpu \(.+\)', this suite asks 'cuda \(.+\)'; .*--fresh"):
        run_state(spec, tmp_path, on_gpu)


def test_the_run_key_names_the_hardware_model_of_the_device(shared_data: Callable[[str], Path]) -> None:
    # two CPU (or GPU) models measure other latencies: the model, not only "cpu", is in the run's identity
    task = PaperCNNTask("flowers17", data_dir=shared_data("flowers17-16px"), device="cpu", demo=True)
    cpuinfo = Path("/proc/cpuinfo")
    if not cpuinfo.exists():
        pytest.skip("no /proc/cpuinfo to read the CPU model from independently")
    model = next(line.split(":", 1)[1].strip() for line in cpuinfo.read_text().splitlines()
                 if line.startswith("model name"))
    assert task.describe()["device"] == f"cpu ({model})"
