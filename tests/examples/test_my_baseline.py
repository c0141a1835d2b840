"""The "add your own baseline" example: short, runnable by name, and passing the unchanged conformance suite."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from baselines import BASELINES
from suite.lifecycle import execute
from suite.spec import Budget, RunSpec

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "my_baseline.py"


def test_example_is_under_60_lines() -> None:
    assert len(EXAMPLE.read_text().splitlines()) < 60


def test_example_runs_by_name_after_loading_the_plugin(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.syspath_prepend(str(ROOT))
    BASELINES.load_module("examples.my_baseline")
    assert "pareto_local_search" in BASELINES.names()
    folder = execute(RunSpec("pareto_local_search", "fcnet-naval", seed=0, budget=Budget(evaluations=40),
                             options={"local_fraction": 0.8}), tmp_path)
    rows = pd.read_parquet(folder / "evaluations.parquet")
    assert len(rows) == 40 and (rows["status"] == "ok").all()


@pytest.mark.slow
def test_conformance_suite_picks_up_the_example() -> None:
    env = {**os.environ, "BOB_PLUGINS": "examples.my_baseline"}
    completed = subprocess.run(
        [sys.executable, "-m", "pytest", "tests/baselines/test_conformance.py", "-q", "-p", "no:cacheprovider",
         "-k", "pareto_local_search"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=300,
    )
    assert completed.returncode == 0, completed.stdout[-3000:]
    passed = re.search(r"(\d+) passed", completed.stdout)
    assert passed and int(passed.group(1)) >= 7, completed.stdout[-1000:]  # every conformance test ran
