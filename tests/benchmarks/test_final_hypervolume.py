"""The one-shot scripts' comparison lines: each baseline's medians over seeds, from real runs' result files."""

from __future__ import annotations

import sys
from pathlib import Path

import moocore
import numpy as np
import pandas as pd
import pytest

from analysis.io import load_experiment
from suite.lifecycle import execute
from suite.spec import Budget, RunSpec
from tasks import make_task

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "benchmarks"))

import final_hypervolume  # noqa: E402  (benchmarks/ is a folder of scripts, not a package)


def test_each_baseline_gets_its_median_hypervolume_regret_and_evaluations(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    runs = {"random_search": (0, 1, 2), "other": (3,)}  # "other": a second label (random search, another seed)
    for label, seeds in runs.items():
        for seed in seeds:
            execute(RunSpec(label, "fcnet-naval", seed, Budget(evaluations=6), experiment="e",
                            registered="random_search"), tmp_path)
    final_hypervolume.print_final_hypervolumes(load_experiment(tmp_path / "e"), "header", regret=True)
    lines = capsys.readouterr().out.splitlines()

    # independently: the rows' expected values, scaled by the task's bounds, and moocore's hypervolume
    task = make_task("fcnet-naval")
    reference = np.array(task.reference_point)
    front = moocore.hypervolume(task.normalise(task.true_front()), ref=reference)
    expected = ["header"]
    for baseline in sorted(runs):
        volumes, counts = [], []
        for seed in runs[baseline]:
            rows = pd.read_parquet(tmp_path / "e" / "fcnet-naval" / baseline / str(seed) / "evaluations.parquet")
            values = rows[[f"expected.{o.name}" for o in task.objectives]].to_numpy()
            points = task.normalise(values)
            volumes.append(moocore.hypervolume(points[(points < reference).all(axis=1)], ref=reference))
            counts.append(len(rows))
        volume = float(np.median(volumes))
        expected.append(f"  {baseline:14s} HV {volume:.4f}  regret {front - volume:.4f}  "
                        f"evaluations {int(np.median(counts))}  seeds {len(volumes)}")
    assert lines == expected
