"""Importing a built-in baseline's module imports no optimiser library: the suite's process checks every name and
option of a job with the modules alone, and a baseline's library is imported when a run makes the baseline."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from baselines import BUILT_IN

#: each over a tenth of a second to import on an idle machine (``python -X importtime``); moocore (about 30 ms,
#: much of it urllib, which Dask imports anyway) is not among them
HEAVY = ("smac", "optuna", "ConfigSpace", "scipy.stats", "sklearn", "torch", "botorch", "gpytorch", "pymoo", "pandas")

#: imports each built-in module in turn, then checks the default job's and every baseline's configuration as the
#: suite does before any run starts, printing which heavy libraries each step brought in
CODE = """
import importlib, json, sys
HEAVY = {heavy!r}
def new(step, before):
    found = sorted(name for name in HEAVY if name in sys.modules and name not in before)
    print(json.dumps([step, found]), flush=True)
    return set(before) | set(found)
from baselines import BASELINES, BUILT_IN
loaded = new("baselines", ())
for name, target in BUILT_IN.items():
    importlib.import_module(target.partition(":")[0])
    loaded = new(target, loaded)
from suite.grid import build_config
for baselines in (None, "all"):
    config = build_config({{"baselines": baselines, "results": sys.argv[1]}})
    for name in config.baselines:
        BASELINES.get(name).check_options({{}})
    loaded = new(f"build_config of baselines {{baselines}}", loaded)
"""


def test_every_built_in_baseline_module_and_the_suites_checks_import_no_optimiser_library(tmp_path: Path) -> None:
    done = subprocess.run([sys.executable, "-c", CODE.format(heavy=HEAVY), str(tmp_path)], capture_output=True,
                          text=True, cwd=Path(__file__).resolve().parents[2], timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    steps = [json.loads(line) for line in done.stdout.splitlines()]
    assert len(steps) == 1 + len(BUILT_IN) + 2, steps  # every built-in module was imported, both configs checked
    assert [(step, found) for step, found in steps if found] == []
