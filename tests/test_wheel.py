"""A built wheel, installed outside the checkout, runs a table task and the analysis with its true-front regret.

The reference files are package data (``tabular_data``); before they were, a wheel's table tasks failed and
the analysis silently lost its regret. The wheel is installed into a folder of its own that comes first on
``sys.path``, and the commands run from a folder outside the checkout, so nothing can be read from the source
tree; the test checks that too.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SOURCE_IGNORED = shutil.ignore_patterns(".git", ".venv", "build", "dist", "results", "figures", "*.egg-info",
                                        "__pycache__", ".pytest_cache")

CHECK = textwrap.dedent("""
    import sys
    from pathlib import Path

    site = Path(sys.argv[1]).resolve()
    import analysis, suite, tabular_data, tasks
    for module in (analysis, suite, tabular_data, tasks):
        assert site in Path(module.__file__).resolve().parents, f"{module.__name__} came from {module.__file__}"

    from suite.cli import main
    code = main(["run", "--baselines", "random_search", "--tasks", "fcnet-naval", "--seeds", "2",
                 "--budget", "30", "--results", "results", "--dask-workers", "1", "--quiet"])
    assert code == 0, code
    assert main(["analyse", "results/default", "--out", "figures"]) == 0

    from analysis import indicator_curves, load_experiment
    curves = indicator_curves(load_experiment("results/default"))
    assert set(curves["front"].astype(str)) == {"true"}, set(curves["front"])
    assert curves["regret"].notna().all() and (curves["regret"] >= 0).all()
    print("wheel ok", len(curves))
""")


@pytest.mark.slow
def test_wheel_runs_a_table_task_and_the_analysis_with_regret_outside_the_checkout(tmp_path: Path) -> None:
    source = tmp_path / "source"
    shutil.copytree(ROOT, source, ignore=SOURCE_IGNORED)  # the build writes build/ into its source folder
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation",
                    "--wheel-dir", str(tmp_path / "dist"), str(source)], check=True, timeout=600)
    wheel = next((tmp_path / "dist").glob("bag_of_baselines-*.whl"))
    site = tmp_path / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--target", str(site),
                    str(wheel)], check=True, timeout=600)
    shutil.rmtree(source)
    assert sorted(p.name for p in (site / "tabular_data").glob("fcnet-naval*")) == ["fcnet-naval.json"]

    work = tmp_path / "work"
    work.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith("BOB_")}
    env["PYTHONPATH"] = str(site)  # before the editable install's path, for this process and Dask's workers
    env["MPLBACKEND"] = "Agg"
    done = subprocess.run([sys.executable, "-c", CHECK, str(site)], cwd=work, env=env, capture_output=True,
                          text=True, timeout=600)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-4000:]
    assert "wheel ok" in done.stdout
    assert (work / "figures").is_dir() and any((work / "figures").iterdir())
