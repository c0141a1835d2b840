"""Every bad input of the command lines (run, list, analyse, table ...) is one line on stderr and exit 2.

The table below runs in this process through ``suite.cli.main`` (fast); a few cases run as real
processes to show that a mistyped value answers before torch, SMAC and the tables are imported. A
broken plug-in installed beside the project (its own dist-info) fails only when it is named.
The handled cases and their messages are listed in docs/cli.md.
"""

from __future__ import annotations

import socket
import subprocess
import sys
import textwrap
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Iterator

import dask
import pytest

import suite.dispatch
from suite.cli import main

ROOT = Path(__file__).resolve().parent.parent

#: files the cases refer to as {tmp}/NAME; bytes are written as they are
FILES: dict[str, str | bytes] = {
    "a_file": "not a folder\n",
    "folder/keep": "",
    "latin1.yaml": "tasks: [caf\xe9]\n".encode("latin-1"),
    "e3.yaml": "budget: 1e3\n",
    "seeds_text.toml": 'seeds = "3"\n',
    "bad_syntax.yaml": "tasks: [fcnet-naval\n",
    "bad_syntax.toml": "budget = \n",
    "bad_syntax.json": '{"budget": 10,}',
    "a_list.yaml": "- fcnet-naval\n",
    "repeated.yaml": "budget: 10\nseeds: 2\nbudget: 20\n",
    "repeated.json": '{"budget": 10, "budget": 20}',
    "repeated_option.yaml": "baseline_options:\n  nsga2: {population_size: 10, population_size: 20}\n",
    "no_value.yaml": "tasks: [fcnet-naval]\nbudget:\n",
    "unknown_key.yaml": "budgte: 10\n",
    "suite.txt": "budget: 10\n",
    "option_type.yaml": "baseline_options: {nsga2: {population_size: '20'}}\n",
    "option_e.yaml": "baseline_options: {nsga2: {population_size: 2e1}}\n",
    "option_range.yaml": "baseline_options: {mo_bohb: {gamma: 1.0}}\n",
    "option_unknown.yaml": "baseline_options: {random_search: {population: 4}}\n",
    "option_not_mapping.yaml": "baseline_options: {random_search: [1]}\n",
    "option_unknown_baseline.yaml": "baseline_options: {no_such_baseline: {a: 1}}\n",
    "resources_local.yaml": "resources: {GPU: 1}\n",
    "resources_text.yaml": "resources: {GPU: one}\n",
    "tls_incomplete.yaml": "tls: {ca_file: ca.pem}\n",
    "local_with_cores.yaml": "cluster: {kind: local, cores: 4}\n",
    "slurm_typo.yaml": "cluster: {kind: slurm, cores: 4, memory: 8GB, walltme: '1:00:00'}\n",
    "slurm_memory.yaml": "baselines: [random_search]\ntasks: [fcnet-naval]\n"
                         "cluster: {kind: slurm, cores: 4, memory: lots}\n",
    "slurm_gpus.yaml": "cluster: {kind: pbs, gpus: 2, processes: 1}\n",
    "plugins_raise.yaml": "plugins: [{tmp}/raises.py]\n",
    "plugins_mapping.yaml": "plugins: {a: 1}\n",
    "seeds_list.yaml": "seeds: [0, 0]\n",
    "seeds_negative.yaml": "seeds: [0, -1]\n",
    "experiment_path.yaml": "experiment: a/b\n",
    "timeout_text.yaml": "eval_timeout_s: 1e2\n",
    "no_address.json": '{"addr": "tcp://127.0.0.1:8786"}',
    "not_json.json": "scheduler at tcp://127.0.0.1:8786\n",
    "raises.py": "x = 1 / 0\n",
    "syntax_error.py": "def f(:\n",
    "imports_nothing.py": "import no_such_module_xyz\n",
    "results_folder/keep": "",
}

# (id, argv, words the one line must hold); {tmp} is this test's folder holding FILES
CASES: list[tuple[str, list[str], str]] = [
    # the command itself
    ("no command", [], "missing command: one of run, list, analyse, table"),
    ("unknown command", ["frobnicate"], "unknown command 'frobnicate'"),
    ("table alone", ["table"], "'table' needs one of check, write, build, import-devices; got nothing"),
    ("unknown table command", ["table", "frobnicate"], "got frobnicate"),
    # run: flags argparse checks
    ("budget not a number", ["run", "--budget", "ten"], "argument --budget: invalid int value: 'ten'"),
    ("budget a fraction", ["run", "--budget", "1.5"], "argument --budget: invalid int value: '1.5'"),
    ("seeds not a number", ["run", "--seeds", "x"], "argument --seeds: invalid int value"),
    ("workers not a number", ["run", "--workers", "two"], "argument --workers: invalid int value"),
    ("dask workers not a number", ["run", "--dask-workers", "x"], "argument --dask-workers: invalid int value"),
    ("seconds not a number", ["run", "--budget-seconds", "1h"], "argument --budget-seconds: invalid float value"),
    ("timeout not a number", ["run", "--eval-timeout-s", "x"], "argument --eval-timeout-s: invalid float value"),
    ("unknown flag", ["run", "--budget-evaluations", "10"], "unrecognized arguments: --budget-evaluations"),
    ("flag without value", ["run", "--baselines"], "argument --baselines: expected one argument"),
    # run: values
    ("zero seeds", ["run", "--seeds", "0"], "seeds: expected a positive integer, got 0"),
    ("negative seeds", ["run", "--seeds", "-2"], "seeds: expected a positive integer, got -2"),
    ("huge seeds", ["run", "--seeds", "1000000000"], "seeds: at most 10,000 seeds"),
    ("zero budget", ["run", "--budget", "0"], "budget: expected a positive integer, got 0"),
    ("huge budget", ["run", "--budget", "1000000000000"], "budget: expected 1 to 1,000,000 evaluations"),
    ("infinite seconds", ["run", "--budget-seconds", "inf"], "budget_seconds: expected a finite number"),
    ("nan seconds", ["run", "--budget-seconds", "nan"], "budget_seconds: expected a positive number"),
    ("negative seconds", ["run", "--budget-seconds", "-1"], "budget_seconds: expected a positive number"),
    ("zero workers", ["run", "--workers", "0"], "workers: expected a positive integer, got 0"),
    ("zero dask workers", ["run", "--dask-workers", "0"], "dask_workers: expected a positive integer, got 0"),
    ("zero timeout", ["run", "--eval-timeout-s", "0"], "eval_timeout_s: expected a positive number of seconds"),
    ("experiment a path", ["run", "--experiment", "a/b"], "experiment: expected a folder name, got 'a/b'"),
    ("experiment hidden", ["run", "--experiment", ".x"], "experiment: expected a folder name, got '.x'"),
    ("unknown baseline", ["run", "--baselines", "no_such_baseline"], "unknown baseline 'no_such_baseline'"),
    ("baseline twice", ["run", "--baselines", "random_search,random_search"], "baselines: a name is listed twice"),
    ("no baselines", ["run", "--baselines", ","], "baselines: expected a non-empty list of names"),
    ("unknown task", ["run", "--tasks", "fcnet-nowhere"], "unknown task 'fcnet-nowhere'"),
    ("unknown cluster", ["run", "--cluster", "kubernetes"], "cluster: unknown kind 'kubernetes'"),
    ("cluster and scheduler", ["run", "--cluster", "slurm", "--scheduler", "tcp://127.0.0.1:1"], "not both"),
    ("scheduler not an address", ["run", "--scheduler", "my laptop"],
     "scheduler: expected an address (tcp://HOST:PORT) or an existing scheduler file"),
    ("scheduler file not JSON", ["run", "--scheduler", "{tmp}/not_json.json"],
     "not a Dask scheduler file (not JSON"),
    ("scheduler file without address", ["run", "--scheduler", "{tmp}/no_address.json"], 'no "address"'),
    ("nothing listens", ["run", "--scheduler", "tcp://127.0.0.1:{closed_port}", "--baselines", "random_search",
                         "--tasks", "fcnet-naval"], "cannot reach the Dask scheduler tcp://127.0.0.1:"),
    ("results a file", ["run", "--results", "{tmp}/a_file"], "lies under the file"),
    ("results under a file", ["run", "--results", "{tmp}/a_file/sub"], "lies under the file"),
    ("results experiment a file", ["run", "--results", "{tmp}", "--experiment", "a_file"],
     "a_file is a file, not a folder"),
    ("results not writable", ["run", "--results", "/proc/bob-results"], "results: cannot write in /proc"),
    ("batch options missing", ["run", "--baselines", "random_search", "--tasks", "fcnet-naval", "--cluster", "slurm"],
     "You must specify how much cores and memory per job you want to use, for example: cluster = SLURMCluster("),
    # run: plug-ins
    ("plug-in not a module", ["run", "--plugin", "no_such_module_xyz"],
     "plugins: cannot import 'no_such_module_xyz': no module named 'no_such_module_xyz'"),
    ("plug-in a folder path", ["run", "--plugin", "path/to/my_baseline"], "or a file path/to/my_baseline.py"),
    ("plug-in file missing", ["run", "--plugin", "{tmp}/missing.py"], "missing.py does not exist"),
    ("plug-in raises", ["run", "--plugin", "{tmp}/raises.py"], "ZeroDivisionError: division by zero (raises.py, line 1)"),
    ("plug-in syntax error", ["run", "--plugin", "{tmp}/syntax_error.py"],
     "SyntaxError: invalid syntax (syntax_error.py, line 1)"),
    ("plug-in imports nothing", ["run", "--plugin", "{tmp}/imports_nothing.py"],
     "ModuleNotFoundError: No module named 'no_such_module_xyz' (imports_nothing.py, line 1)"),
    # run: config files
    ("config missing", ["run", "--config", "{tmp}/missing.yaml"], "missing.yaml does not exist"),
    ("config a folder", ["run", "--config", "{tmp}/folder"], "folder is a folder; give a .yaml, .toml or .json file"),
    ("config not UTF-8", ["run", "--config", "{tmp}/latin1.yaml"], "latin1.yaml is not UTF-8 text (byte 0xe9"),
    ("config suffix", ["run", "--config", "{tmp}/suite.txt"], "suite.txt: use .yaml, .yml, .toml or .json"),
    ("YAML 1e3 is text", ["run", "--config", "{tmp}/e3.yaml"], "got '1e3' (the text '1e3', not a number: YAML reads"),
    ("TOML quoted number", ["run", "--config", "{tmp}/seeds_text.toml"], "seeds: expected a positive integer, got '3'"),
    ("YAML syntax", ["run", "--config", "{tmp}/bad_syntax.yaml"], "bad_syntax.yaml cannot be parsed"),
    ("TOML syntax", ["run", "--config", "{tmp}/bad_syntax.toml"], "bad_syntax.toml cannot be parsed"),
    ("JSON syntax", ["run", "--config", "{tmp}/bad_syntax.json"], "bad_syntax.json cannot be parsed"),
    ("config a list", ["run", "--config", "{tmp}/a_list.yaml"], "expected a mapping of keys, got list"),
    ("YAML key twice", ["run", "--config", "{tmp}/repeated.yaml"], "key 'budget' is given twice; keep one"),
    ("JSON key twice", ["run", "--config", "{tmp}/repeated.json"], "key 'budget' is given twice; keep one"),
    ("option twice", ["run", "--config", "{tmp}/repeated_option.yaml"], "key 'population_size' is given twice"),
    ("key without value", ["run", "--config", "{tmp}/no_value.yaml"], "budget has no value; give one or delete"),
    ("config unknown key", ["run", "--config", "{tmp}/unknown_key.yaml"], "unknown key(s) budgte"),
    ("option of wrong type", ["run", "--config", "{tmp}/option_type.yaml"], "option population_size must be"),
    ("option 2e1 is text", ["run", "--config", "{tmp}/option_e.yaml"], "the text '2e1', not a number"),
    ("option out of range", ["run", "--config", "{tmp}/option_range.yaml"], "baseline mo_bohb: option gamma must be"),
    ("unknown option", ["run", "--config", "{tmp}/option_unknown.yaml"], "random_search has no option(s) population"),
    ("options not a mapping", ["run", "--config", "{tmp}/option_not_mapping.yaml"],
     "baseline_options: expected a mapping of baseline name -> mapping"),
    ("options of an unknown baseline", ["run", "--config", "{tmp}/option_unknown_baseline.yaml"],
     "baseline_options: unknown baseline 'no_such_baseline'"),
    ("resources on the local cluster", ["run", "--config", "{tmp}/resources_local.yaml"],
     "resources: the local cluster's workers offer none"),
    ("resources as text", ["run", "--config", "{tmp}/resources_text.yaml"], "resources: expected a mapping"),
    ("tls incomplete", ["run", "--config", "{tmp}/tls_incomplete.yaml"], "tls: expected a mapping with ca_file"),
    ("local cluster with batch options", ["run", "--config", "{tmp}/local_with_cores.yaml"],
     "kind local takes no batch options"),
    ("batch option typo", ["run", "--config", "{tmp}/slurm_typo.yaml"], "slurm has no option(s) walltme"),
    ("batch memory unreadable", ["run", "--config", "{tmp}/slurm_memory.yaml"], "Could not interpret 'lots' as a byte"),
    ("gpus and processes", ["run", "--config", "{tmp}/slurm_gpus.yaml"], "processes must be 2"),
    ("plug-in in the config raises", ["run", "--config", "{tmp}/plugins_raise.yaml"], "ZeroDivisionError"),
    ("plugins a mapping", ["run", "--config", "{tmp}/plugins_mapping.yaml"], "plugins: expected a list of module"),
    ("seed listed twice", ["run", "--config", "{tmp}/seeds_list.yaml"], "seeds: a seed is listed twice"),
    ("negative seed", ["run", "--config", "{tmp}/seeds_negative.yaml"], "seeds: expected a list of non-negative"),
    ("experiment a path in the config", ["run", "--config", "{tmp}/experiment_path.yaml"],
     "experiment: expected a folder name"),
    ("timeout 1e2 is text", ["run", "--config", "{tmp}/timeout_text.yaml"], "the text '1e2', not a number"),
    # list
    ("list unknown flag", ["list", "--verbose"], "unrecognized arguments: --verbose"),
    ("list plug-in missing", ["list", "--plugin", "no_such_module_xyz"], "cannot import 'no_such_module_xyz'"),
    ("list plug-in raises", ["list", "--plugin", "{tmp}/raises.py"], "ZeroDivisionError: division by zero"),
    ("list config a folder", ["list", "--config", "{tmp}/folder"], "is a folder"),
    ("list config not UTF-8", ["list", "--config", "{tmp}/latin1.yaml"], "is not UTF-8 text"),
    ("run --list plug-in syntax", ["run", "--list", "--plugin", "{tmp}/syntax_error.py"], "SyntaxError"),
    # analyse
    ("analyse nothing", ["analyse"], "the following arguments are required: experiment"),
    ("analyse missing folder", ["analyse", "{tmp}/no/such/folder"], "does not exist"),
    ("analyse unknown flag", ["analyse", "{tmp}/results_folder", "--colour"], "unrecognized arguments: --colour"),
    ("analyse x axis", ["analyse", "{tmp}/results_folder", "--x", "hours"], "argument --x: invalid choice: 'hours'"),
    ("analyse statistic", ["analyse", "{tmp}/results_folder", "--statistic", "mode"],
     "argument --statistic: invalid choice: 'mode'"),
    ("analyse indicator", ["analyse", "{tmp}/results_folder", "--indicator", "r2"],
     "argument --indicator: invalid choice: 'r2'"),
    ("analyse one objective", ["analyse", "{tmp}/results_folder", "--objectives", "0"],
     "expected two objective indices such as 0,1, got '0'"),
    ("analyse objectives text", ["analyse", "{tmp}/results_folder", "--objectives", "a,b"],
     "expected two objective indices"),
    ("analyse alpha", ["analyse", "{tmp}/results_folder", "--alpha", "five"], "argument --alpha: invalid float value"),
    # table ...
    ("table check unknown task", ["table", "check", "fcnet-nowhere"], "'fcnet-nowhere' has no shipped file"),
    ("table write unknown task", ["table", "write", "fcnet-nowhere"], "'fcnet-nowhere' has no shipped file"),
    ("table check flag", ["table", "check", "--fast"], "unrecognized arguments: --fast"),
    ("table build flag", ["table", "build", "--fast"], "unrecognized arguments: --fast"),
    ("table build epochs", ["table", "build", "--epochs", "many"], "argument --epochs: expected an integer, got 'many'"),
    ("table build dataset", ["table", "build", "--dataset", "imagenet"], "argument --dataset: invalid choice"),
    ("table build meter", ["table", "build", "--meter", "watts"], "argument --meter: invalid choice"),
    ("table build grid", ["table", "build", "--grid", "lr"], "expected name=value,value..., got 'lr'"),
    ("table import-devices without --out", ["table", "import-devices"], "the following arguments are required: --out"),
    ("table import-devices of nothing", ["table", "import-devices", "--out", "{tmp}/devices"], "nothing to import"),
    ("table import-devices HELP folder missing", ["table", "import-devices", "--out", "{tmp}/devices", "--help-dir",
                                                  "{tmp}/no_such_folder"], "no_such_folder is no folder"),
    ("table import-devices HELP folder empty", ["table", "import-devices", "--out", "{tmp}/devices", "--help-dir",
                                                "{tmp}/folder"], "holds no latency/<device>.pt files"),
    ("table import-devices pickle missing", ["table", "import-devices", "--out", "{tmp}/devices", "--hw-nas-bench",
                                             "{tmp}/missing.pickle"], "missing.pickle is no file"),
    ("table build zero epochs", ["table", "build", "--epochs", "0"], "argument --epochs: expected an integer >= 1"),
    ("table build zero workers", ["table", "build", "--n-workers", "0"], "argument --n-workers: expected an integer"),
    ("table build zero repeats", ["table", "build", "--latency-repeats", "0"], "argument --latency-repeats: expected"),
    ("table build negative seed", ["table", "build", "--seeds", "-1"], "argument --seeds: expected an integer >= 0"),
]


@pytest.fixture(scope="module")
def closed_port() -> Iterator[int]:
    """A loopback port where nothing listens, held (bound, never listening) so that no other process can take it
    while the cases run: a connection to it is refused at once."""
    with socket.socket() as held:
        held.bind(("127.0.0.1", 0))
        yield int(held.getsockname()[1])


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tmp = tmp_path_factory.mktemp("bad_inputs")
    for name, content in FILES.items():
        path = tmp / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content.replace("{tmp}", str(tmp)))
    return tmp


@pytest.fixture()
def no_run_starts(monkeypatch: pytest.MonkeyPatch) -> None:
    """A case that wrongly passes every check fails here instead of running the default grid."""
    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("a run started: this input was not refused")

    monkeypatch.setattr(suite.dispatch, "run_grid", refuse)


def _answer(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int | str | None, str]:
    try:
        code: int | str | None = main(argv)
    except SystemExit as stop:  # argparse's own exit
        code = stop.code
    return code, capsys.readouterr().err


def _one_line(code: int | str | None, err: str, words: str) -> str:
    assert code == 2, err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert "Traceback" not in err
    assert words in lines[0], lines[0]
    return lines[0]


@pytest.mark.usefixtures("no_run_starts")
@pytest.mark.parametrize(("argv", "words"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_bad_input_is_one_line_naming_what_to_fix_and_exit_2(
    argv: list[str], words: str, folder: Path, closed_port: int, capsys: pytest.CaptureFixture[str],
) -> None:
    argv = [a.replace("{tmp}", str(folder)).replace("{closed_port}", str(closed_port)) for a in argv]
    if argv[:1] == ["run"] and "--results" not in argv:
        argv += ["--results", str(folder / "results")]  # a case that reaches the cluster writes its log here
    started = time.monotonic()
    _one_line(*_answer(argv, capsys), words)
    assert time.monotonic() - started < 30  # Dask's connect timeout bounds the slowest (30 s by default)


def test_there_are_at_least_sixty_cases() -> None:
    assert len(CASES) >= 60 and len({c[0] for c in CASES}) == len(CASES)


class _Http(BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802 (http.server's name)
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


def _serve_garbage(server: socket.socket) -> None:
    # a stranger that answers any connection with bytes Dask would read as a frame count of 2**64 - 1
    while True:
        try:
            connection, _ = server.accept()
        except OSError:
            return
        connection.sendall(b"\xff" * 64)


@pytest.fixture()
def strangers() -> Iterator[dict[str, str]]:
    """Addresses where something other than a Dask scheduler listens: an HTTP server and a byte spewer."""
    http = ThreadingHTTPServer(("127.0.0.1", 0), _Http)
    threading.Thread(target=http.serve_forever, daemon=True).start()
    garbage = socket.create_server(("127.0.0.1", 0))
    threading.Thread(target=_serve_garbage, args=(garbage,), daemon=True).start()
    yield {"http": f"tcp://127.0.0.1:{http.server_address[1]}",
           "garbage": f"tcp://127.0.0.1:{garbage.getsockname()[1]}"}
    http.shutdown()
    http.server_close()
    garbage.close()


@pytest.mark.usefixtures("no_run_starts")
@pytest.mark.parametrize("stranger", ["http", "garbage"])
def test_an_address_where_no_scheduler_listens_answers_within_the_connect_timeout(
    stranger: str, strangers: dict[str, str], tmp_path: Path, capsys: pytest.CaptureFixture[str],
) -> None:
    """Today's Client waits for ever on an HTTP port; the answer comes within Dask's connect timeout."""
    argv = ["run", "--scheduler", strangers[stranger], "--baselines", "random_search", "--tasks", "fcnet-naval",
            "--results", str(tmp_path)]
    started = time.monotonic()
    with dask.config.set({"distributed.comm.timeouts.connect": "2s"}):
        line = _one_line(*_answer(argv, capsys), strangers[stranger])
    assert time.monotonic() - started < 2 + 5  # the timeout, and the checks before it
    assert "no Dask scheduler" in line


@pytest.mark.parametrize(("args", "words"), [
    (["run", "--budget", "ten"], "invalid int value: 'ten'"),
    (["run", "--config", "{tmp}/e3.yaml"], "YAML reads 1e3 as text"),
    (["run", "--config", "{tmp}/folder"], "is a folder"),
    (["run", "--results", "{tmp}/a_file"], "lies under the file"),
    (["run", "--scheduler", "{tmp}/not_json.json"], "not a Dask scheduler file"),
    (["run", "--seeds", "1000000000"], "seeds: at most"),
])
def test_a_typo_answers_before_the_heavy_imports(args: list[str], words: str, folder: Path) -> None:
    """In a fresh process: one line, exit 2, and none of torch, SMAC, Optuna, the baselines or tasks imported."""
    argv = [a.replace("{tmp}", str(folder)) for a in args]
    code = ("import sys\nfrom suite.cli import main\ntry:\n    code = main(sys.argv[1:])\n"
            "except SystemExit as stop:\n    code = stop.code\n"
            "heavy = {'torch', 'smac', 'optuna', 'baselines', 'tasks', 'pandas', 'distributed'} & set(sys.modules)\n"
            "print(sorted(heavy))\nsys.exit(code)")
    done = subprocess.run([sys.executable, "-c", code, *argv], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 2 and done.stdout.strip() == "[]", done.stdout + done.stderr
    _one_line(done.returncode, done.stderr, words)


def test_a_typo_answers_in_seconds_from_the_console_script() -> None:
    # measured < 1 s on an idle machine (docs/cli.md); the bound leaves room for a busy CI runner
    started = time.monotonic()
    done = subprocess.run([str(Path(sys.executable).with_name("bag-of-baselines")), "run", "--seeds", "0"], cwd=ROOT,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 2 and "seeds: expected a positive integer" in done.stderr
    assert time.monotonic() - started < 5


BROKEN_PACKAGE = {
    "broken_pkg/__init__.py": "",
    "broken_pkg/baseline.py": "raise RuntimeError('the GPU library is missing')\n",
    "broken_pkg/task.py": "def make_task(:\n",
    "broken_pkg-1.0.dist-info/METADATA": "Metadata-Version: 2.1\nName: broken-pkg\nVersion: 1.0\n",
    "broken_pkg-1.0.dist-info/entry_points.txt": "[bag_of_baselines.baselines]\nbroken_baseline = broken_pkg.baseline:B\n"
                                                 "[bag_of_baselines.tasks]\nbroken_task = broken_pkg.task:make_task\n",
}


@pytest.fixture()
def broken_plugin_installed(tmp_path: Path) -> dict[str, str]:
    """An outside package installed beside this one (its own dist-info) whose two plug-ins cannot load."""
    for name, content in BROKEN_PACKAGE.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(content)
    return {"PYTHONPATH": str(tmp_path), "PATH": "", "HOME": str(tmp_path)}


def _with_env(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", "import sys; from suite.cli import main; sys.exit(main(sys.argv[1:]))",
                           *args], cwd=ROOT, capture_output=True, text=True,
                          env=env, timeout=300)


def test_a_broken_plugin_is_listed_as_broken_and_fails_only_when_named(broken_plugin_installed: dict[str, str]) -> None:
    listing = _with_env(broken_plugin_installed, "list")
    assert listing.returncode == 0, listing.stderr
    assert "random_search" in listing.stdout and "fcnet-naval" in listing.stdout  # the rest still works
    lines = {line.split()[0]: line for line in listing.stdout.splitlines() if line.startswith("  ")}
    assert ("(broken plug-in: broken_pkg.baseline:B: RuntimeError: the GPU library is missing (baseline.py, line 1))"
            in lines["broken_baseline"])
    assert "(broken plug-in: broken_pkg.task:make_task: SyntaxError: invalid syntax (task.py, line 1))" in lines[
        "broken_task"]
    for flag, name in (("--baselines", "broken_baseline"), ("--tasks", "broken_task")):
        # a refused name never reaches the scheduler, where nothing listens: no run could start
        done = _with_env(broken_plugin_installed, "run", flag, name, "--scheduler", "tcp://127.0.0.1:1")
        line = _one_line(done.returncode, done.stderr, f"'{name}' is a broken plug-in: broken_pkg.")
        assert ("RuntimeError: the GPU library is missing" if name == "broken_baseline" else "SyntaxError") in line


@pytest.mark.slow
def test_runs_of_built_in_baselines_work_beside_a_broken_plugin(broken_plugin_installed: dict[str, str],
                                                                 tmp_path: Path) -> None:
    done = _with_env(broken_plugin_installed, "run", "--baselines", "random_search", "--tasks", "fcnet-naval",
                     "--seeds", "1", "--budget", "3", "--dask-workers", "1", "--no-plot", "--quiet",
                     "--results", str(tmp_path / "results"))
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "results" / "default" / "fcnet-naval" / "random_search" / "0" / "evaluations.parquet").exists()


def test_a_plugin_file_is_accepted(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """--plugin path/to/file.py imports the file (as module my_file_baseline) and its baseline is listed."""
    plugin = tmp_path / "my_file_baseline.py"
    plugin.write_text(textwrap.dedent("""
        from baselines import register
        from baselines.random_search import RandomSearch

        @register("random_search_from_a_file")
        class FromAFile(RandomSearch):
            '''Random search registered from a plug-in file.'''
    """))
    assert main(["list", "--plugin", str(plugin)]) == 0
    assert "random_search_from_a_file" in capsys.readouterr().out
    assert main(["list", "--plugin", str(plugin)]) == 0  # a second import of the same file registers nothing twice
