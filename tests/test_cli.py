"""run_suite.py as a user meets it: one clear error line for bad input, --list, a real small suite."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _cli(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(ROOT / "run_suite.py"), *args], cwd=cwd, capture_output=True,
                          text=True, timeout=300)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--baselines", "no_such_baseline"], "unknown baseline 'no_such_baseline'"),
        (["--tasks", "fcnet-nowhere"], "unknown task 'fcnet-nowhere'"),
        (["--seeds", "0"], "seeds: expected a positive integer"),
        (["--budget", "ten"], "argument --budget: invalid int value"),
        (["--no-such-flag"], "unrecognized arguments: --no-such-flag"),
        (["--plugin", "no_such_module_xyz"], "cannot import 'no_such_module_xyz'"),
    ],
)
def test_bad_input_gives_one_line_and_a_nonzero_exit(args: list[str], message: str) -> None:
    done = _cli(*args)
    assert done.returncode != 0
    assert message in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1, done.stderr
    assert "Traceback" not in done.stderr


def test_config_file_errors(tmp_path: Path) -> None:
    bad_key = tmp_path / "suite.yaml"
    bad_key.write_text("tasks: [fcnet-naval]\nbudgte: 10\n")
    done = _cli("--config", str(bad_key))
    assert done.returncode == 2 and "unknown key(s) budgte" in done.stderr
    bad_option = tmp_path / "suite.toml"
    bad_option.write_text('[baseline_options.random_search]\npopulation = 4\n')
    done = _cli("--config", str(bad_option))
    assert done.returncode == 2 and "random_search has no option(s) population" in done.stderr
    assert _cli("--config", str(tmp_path / "missing.yaml")).returncode == 2


def test_list_shows_baselines_and_tasks() -> None:
    done = _cli("--list")
    assert done.returncode == 0
    assert "random_search" in done.stdout and "fcnet-naval" in done.stdout and "nb201-cifar10" in done.stdout


@pytest.mark.slow
def test_small_suite_from_a_config_file_writes_run_folders(tmp_path: Path) -> None:
    config = tmp_path / "suite.yaml"
    config.write_text(
        "baselines: [random_search]\ntasks: [fcnet-naval]\nseeds: 3\nbudget: 30\n"
        f"results: {tmp_path / 'results'}\nexperiment: smoke\ndask_workers: 2\n"
    )
    done = _cli("--config", str(config), "--quiet", "--no-plot", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    folders = [tmp_path / "results" / "smoke" / "fcnet-naval" / "random_search" / str(s) for s in range(3)]
    for folder in folders:
        assert (folder / "evaluations.parquet").exists()
        assert str(folder) in done.stdout
