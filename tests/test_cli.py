"""The command line as a user meets it: one clear error line for bad input, listing, a real small suite."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pyarrow.parquet as pq
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


# bag-of-baselines, the console script over every tool (suite/cli.py); run_suite.py above is its `run`
BOB = Path(sys.executable).with_name("bag-of-baselines")


def _bob(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(BOB), *args], cwd=ROOT, capture_output=True, text=True, timeout=300)


def test_help_and_bad_arguments_import_no_tool() -> None:
    """--help and an argument error answer before any tool (torch, Dask, the tables) is imported."""
    code = ("import sys\nfrom suite.cli import main\nfor argv in (['--help'], ['run', '--budget-evaluations', 'x']):\n"
            "    try:\n        main(argv)\n    except SystemExit:\n        pass\n"
            "print('loaded:', sorted(set(sys.modules) & {'numpy', 'pandas', 'torch', 'dask', 'tasks', 'baselines'}))")
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert "loaded: []" in done.stdout, done.stdout + done.stderr
    for name in ("run", "list", "analyse", "table check", "table write", "table build", "table import-devices"):
        assert f"\n  {name} " in done.stdout
    assert "unrecognized arguments: --budget-evaluations x" in done.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ([], "missing command: one of run, list, analyse, table"),
        (["frobnicate"], "unknown command 'frobnicate'"),
        (["table"], "'table' needs one of check, write, build, import-devices; got nothing"),
        (["table", "frobnicate"], "got frobnicate"),
        (["list", "--plugin", "no_such_module_xyz"], "cannot import 'no_such_module_xyz'"),
        (["analyse"], "the following arguments are required: experiment"),
        (["analyse", "no/such/folder"], "results folder 'no/such/folder' does not exist"),
    ],
)
def test_bob_bad_input_gives_one_line_and_exit_2(args: list[str], message: str) -> None:
    done = _bob(*args)
    assert done.returncode == 2
    assert message in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1, done.stderr


def test_a_tool_that_cannot_be_imported_is_one_line_and_exit_2(monkeypatch: pytest.MonkeyPatch,
                                                                capsys: pytest.CaptureFixture[str]) -> None:
    from suite.cli import COMMANDS, Command, main

    monkeypatch.setitem(COMMANDS, "table check", Command("tasks.tables.nowhere:main", "moved away"))
    assert main(["table", "check"]) == 2
    assert capsys.readouterr().err.strip() == ("bag-of-baselines: error: 'table check' is not available: cannot "
                                               "import tasks.tables.nowhere (needed by tasks.tables.nowhere) "
                                               "(see --help)")


def test_the_console_script_ends_run_without_teardown_and_the_other_tools_the_usual_way(
        monkeypatch: pytest.MonkeyPatch) -> None:
    import suite.cli
    import suite.process

    fast: list[int] = []

    def exit_without_teardown(status: int) -> None:
        fast.append(status)
        raise SystemExit(status)

    monkeypatch.setattr(suite.process, "exit_without_teardown", exit_without_teardown)
    monkeypatch.setattr(suite.cli, "main", lambda argv: 3)
    for argv in (["run", "--budget", "5"], ["list"], ["analyse", "x"], []):
        monkeypatch.setattr(sys, "argv", ["bag-of-baselines", *argv])
        with pytest.raises(SystemExit) as ended:
            suite.cli.console()
        assert ended.value.code == 3
    assert fast == [3]  # only `run`


@pytest.mark.slow
def test_a_run_from_the_console_script_is_complete(tmp_path: Path) -> None:
    done = _bob("run", "--baselines", "random_search", "--tasks", "fcnet-naval", "--seeds", "1", "--budget", "5",
                "--results", str(tmp_path), "--experiment", "console", "--quiet", "--no-plot")
    assert done.returncode == 0, done.stderr
    run = tmp_path / "console" / "fcnet-naval" / "random_search" / "0"
    assert len(pq.read_table(run / "evaluations.parquet")) == 5


def test_list_shows_baselines_and_tasks() -> None:
    done = _bob("list")
    assert done.returncode == 0, done.stderr
    assert "random_search" in done.stdout and "fcnet-naval" in done.stdout and "nb201-cifar10" in done.stdout


@pytest.mark.slow
def test_run_list_is_list() -> None:
    """The old spelling, `python run_suite.py --list` (= `bag-of-baselines run --list`), lists the same."""
    assert _cli("--list").stdout == _bob("list").stdout


@pytest.mark.parametrize("table", ["check", "write", "build", "import-devices"])
def test_table_subcommands_reach_their_tool(table: str) -> None:
    done = _bob("table", table, "--help")
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("usage:")


@pytest.mark.parametrize("table", ["check", "build", "import-devices"])
def test_table_subcommands_answer_a_bad_flag_in_one_line(table: str) -> None:
    done = _bob("table", table, "--no-such-flag")
    assert done.returncode == 2
    assert len(done.stderr.strip().splitlines()) == 1, done.stderr


def test_version_is_the_checkouts() -> None:
    import re

    # the checkout's pyproject.toml, not an editable install's metadata (which keeps the version it was installed at)
    checkout = re.search(r'^version = "([^"]+)"$', (ROOT / "pyproject.toml").read_text(), re.MULTILINE)
    assert checkout and _bob("--version").stdout.strip() == f"bag-of-baselines {checkout.group(1)}"
