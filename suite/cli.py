"""The one command line, ``bag-of-baselines``: subcommands that hand over to each tool's own ``main(argv) -> int``.

A subcommand's module is imported only when it runs, so ``--help`` and a mistyped command answer at once
instead of after importing torch, Dask and every table. Every subcommand and environment variable is listed
in docs/cli.md.
"""

from __future__ import annotations

import argparse
import importlib
import json
import logging
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, NoReturn

if TYPE_CHECKING:
    from concurrent.futures import Future

PROG = "bag-of-baselines"


@dataclass(frozen=True)
class Command:
    """One subcommand: the tool's ``module:function`` that takes argv, and the arguments put before the user's."""

    target: str
    summary: str
    prefix: tuple[str, ...] = ()
    #: the tool writes and closes every file before it returns, so its process may end without the interpreter's
    #: teardown of its modules (``suite.process.exit_without_teardown``), as ``python run_suite.py`` does
    ends_without_teardown: bool = False


COMMANDS: dict[str, Command] = {
    "run": Command("suite.cli:run", "run the grid baselines x tasks x seeds; a second call resumes",
                   ends_without_teardown=True),
    "list": Command("suite.cli:list_names", "list registered baselines and tasks"),
    "analyse": Command("analysis.__main__:main", "figures and tables of a results folder"),
    "table check": Command("tasks.tables.reference:main", "check the reference files (bounds, true front)"),
    "table write": Command("tasks.tables.reference:main", "rewrite the reference files", ("--write",)),
    "table build": Command("tasks.live.build_table:main", "measure a multi-fidelity table of the live CNN task"),
    "table import-devices": Command("tasks.tables.recipes.devices:main",
                                    "import HELP / HW-NAS-Bench device tables"),
}

HELP = "\n".join([
    f"usage: {PROG} <command> [options]      ({PROG} <command> --help for a command's options)",
    "",
    "Multi-objective baselines for joint NAS+HPO: run the suite, analyse its results, build tables.",
    "",
    "commands:",
    *(f"  {name:22s} {command.summary}" for name, command in COMMANDS.items()),
    "",
    "options:",
    "  -h, --help             show this help and exit",
    "  --version              show the installed version and exit",
    "",
    "Every command and environment variable: docs/cli.md.",
])


def main(argv: list[str] | None = None) -> int:
    """The ``bag-of-baselines`` console script: find the subcommand, import its tool, run it."""
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv[:1] in (["-h"], ["--help"]) or argv[:2] in (["table", "-h"], ["table", "--help"]):
        print(HELP)
        return 0
    if argv[:1] == ["--version"]:
        from suite.metadata import suite_version

        print(f"{PROG} {suite_version()}")
        return 0
    name, rest = _split(argv)
    command = COMMANDS.get(name)
    if command is None:
        return _error(_unknown(name))
    module_name, function_name = command.target.split(":")
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as error:  # a tool not installed or moved: say which, no traceback
        return _error(f"'{name}' is not available: cannot import {error.name} (needed by {module_name})")
    tool: Callable[[list[str]], int] = getattr(module, function_name)
    return tool([*command.prefix, *rest])


def console() -> NoReturn:
    """The installed ``bag-of-baselines`` script: ``main`` with the command line, ending as the command allows."""
    argv = sys.argv[1:]
    status = main(argv)
    command = COMMANDS.get(_split(argv)[0])
    if command is not None and command.ends_without_teardown:
        from suite.process import exit_without_teardown

        exit_without_teardown(status)
    sys.exit(status)


def _split(argv: list[str]) -> tuple[str, list[str]]:
    """The command name (one word, or 'table' and its subcommand) and the arguments that follow it."""
    if argv[:1] == ["table"] and len(argv) > 1:
        return f"table {argv[1]}", argv[2:]
    return " ".join(argv[:1]), argv[1:]


def _unknown(name: str) -> str:
    if not name:
        return f"missing command: one of {', '.join(_first_words())}"
    if name == "table" or name.startswith("table "):
        tables = [n.removeprefix("table ") for n in COMMANDS if n.startswith("table ")]
        given = name.removeprefix("table").strip() or "nothing"
        return f"'table' needs one of {', '.join(tables)}; got {given}"
    return f"unknown command {name!r}; expected one of {', '.join(_first_words())}"


def _first_words() -> list[str]:
    return list(dict.fromkeys(name.split()[0] for name in COMMANDS))


def _error(message: str) -> int:
    print(f"{PROG}: error: {message} (see --help)", file=sys.stderr)
    return 2


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        # one line, not argparse's usage block: the user sees what is wrong and where to look
        self.exit(2, f"{self.prog}: error: {message} (see --help)\n")


RUN_DESCRIPTION = f"""Run the grid baselines x tasks x seeds and plot hypervolume over time.

    {PROG} run                                        # the default job (every baseline, small task set)
    {PROG} run --baselines random_search --tasks fcnet-naval --seeds 3 --budget 100
    {PROG} run --config suite.yaml                    # the same keys as the flags, in YAML or TOML
    {PROG} run --scheduler tcp://HOST:8786            # on an existing Dask cluster
    {PROG} run --config slurm.yaml --cluster slurm    # batch jobs through dask-jobqueue

Re-running the same command resumes: complete runs are skipped, partial runs continued; --fresh starts over.
`python run_suite.py [options]` is the same command.
"""


def _add_config_and_plugins(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", type=Path, help="YAML/TOML/JSON file with the keys below; flags override it")
    parser.add_argument("--plugin", action="append", dest="plugins", metavar="MODULE",
                        help="import MODULE first so its @register lines add baselines or tasks (repeatable)")


def _run_parser(prog: str) -> argparse.ArgumentParser:
    parser = _Parser(prog=prog, description=RUN_DESCRIPTION, formatter_class=argparse.RawDescriptionHelpFormatter)
    _add_config_and_plugins(parser)
    parser.add_argument("--list", action="store_true", help="list registered baselines and tasks, then exit")
    parser.add_argument("--baselines", help="comma-separated baseline names or labelled variants "
                        "LABEL=NAME@OPTION=VALUE@... (docs/cli.md; default: all registered)")
    parser.add_argument("--tasks", help="comma-separated task names")
    parser.add_argument("--seeds", type=int, help="number of seeds, 0..N-1 (default 3)")
    parser.add_argument("--budget", type=int, help="evaluations per run (default 100 unless --budget-seconds is "
                        "given; both: whichever comes first ends the run)")
    parser.add_argument("--budget-seconds", type=float, help="seconds of the run's clock per run (simulated for "
                        "tables; with --budget, whichever comes first ends the run)")
    parser.add_argument("--workers", type=int, help="parallel workers inside one run (default 1)")
    parser.add_argument("--experiment", help="experiment folder name (default 'default')")
    parser.add_argument("--results", type=Path, help="results root (default ./results)")
    parser.add_argument("--dask-workers", type=int, help="local Dask workers (default: one per run, at most the "
                        "cores; a single one runs in this process)")
    parser.add_argument("--cluster", help="local (default), slurm, pbs, sge or lsf (batch options: config file)")
    parser.add_argument("--scheduler", help="address or scheduler file of an existing Dask cluster")
    parser.add_argument("--eval-timeout-s", type=float, help="seconds before a live evaluation is a timeout")
    parser.add_argument("--fresh", action="store_true", help="delete this suite's run folders and start over")
    parser.add_argument("--no-plot", action="store_true", help="do not write the hypervolume figure")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    return parser


#: flags of `run` that say how to run, not what: they are no suite configuration keys
_NOT_KEYS = ("config", "list", "no_plot", "quiet", "fresh")


def _values(args: argparse.Namespace) -> dict[str, Any]:
    """The config file's values overridden by the flags that were given."""
    from suite.grid import read_config_file

    values: dict[str, Any] = {}
    if args.config is not None:
        values.update(read_config_file(args.config))
    flags = {k: v for k, v in vars(args).items() if k not in _NOT_KEYS}
    if flags.get("cluster") is not None and isinstance(values.get("cluster"), dict):
        flags["cluster"] = {**values["cluster"], "kind": flags["cluster"]}  # the file's batch options stay
    values.update({k: v for k, v in flags.items() if v is not None})
    return values


def list_names(argv: list[str] | None = None, prog: str = f"{PROG} list") -> int:
    """``bag-of-baselines list``: registered baselines and tasks (with --plugin's), one line each."""
    parser = _Parser(prog=prog, description="List registered baselines and tasks, one line each.")
    _add_config_and_plugins(parser)
    return _list(parser.parse_args(argv), prog)


def _list(args: argparse.Namespace, prog: str) -> int:
    from suite.grid import ConfigError, load_plugins

    try:
        load_plugins(_values(args).get("plugins"))
    except ConfigError as error:
        print(f"{prog}: error: {error}", file=sys.stderr)
        return 2
    from baselines import BASELINES
    from tasks import TASKS, make_task

    print("baselines:")
    for name in BASELINES.names():
        doc = (BASELINES.get(name).__doc__ or "").strip().splitlines()
        print(f"  {name:32s} {doc[0] if doc else ''}")
    _list_broken(BASELINES.broken())
    print("tasks:")
    for name in TASKS.names():
        try:
            task = make_task(name)
            objectives = ", ".join(task.objective_names)
            fidelity = f"; fidelity {task.fidelity.name}" if task.fidelity else ""
            print(f"  {name:32s} {objectives}{fidelity}")
        except (OSError, ValueError, RuntimeError, ImportError) as error:  # listed with why it is unavailable
            print(f"  {name:32s} (unavailable: {error})")
    _list_broken(TASKS.broken())
    return 0


def _list_broken(broken: dict[str, str]) -> None:
    # a plug-in that failed to load is shown, not fatal: it fails only when a run names it
    for name, error in broken.items():
        print(f"  {name:32s} (broken plug-in: {error})")


def run(argv: list[str] | None = None, prog: str = f"{PROG} run") -> int:
    """``bag-of-baselines run`` (and ``python run_suite.py``): run the suite's grid on a Dask cluster."""
    args = _run_parser(prog).parse_args(argv)
    if args.list:
        return _list(args, prog)
    # started before the configuration is even read, so that its imports overlap all of the suite's own; a
    # configuration error ends it unused
    figure = None if args.no_plot else FigureProcess()
    try:
        return _configured_run(args, prog, figure)
    finally:
        if figure is not None:
            figure.close()


def _configured_run(args: argparse.Namespace, prog: str, figure: FigureProcess | None) -> int:
    from suite.grid import build_config

    try:
        config = build_config(_values(args))
    except ValueError as error:  # ConfigError, and a plug-in that registers a name twice
        print(f"{prog}: error: {error}", file=sys.stderr)
        return 2
    try:
        return _run(config, figure, progress=not args.quiet, fresh=args.fresh)
    except ValueError as error:  # an unreachable scheduler, batch options dask-jobqueue refuses: all of it, one line
        print(f"{prog}: error: {' '.join(str(error).split())}", file=sys.stderr)
        return 2


def _start_log(experiment: Path) -> logging.Handler:
    """The suite's short log (plan, resumes, failures) in the experiment folder, appended per invocation."""
    experiment.mkdir(parents=True, exist_ok=True)
    handler = logging.FileHandler(experiment / "suite.log")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
    logger = logging.getLogger("suite")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    return handler


class FigureProcess:
    """The hypervolume figure, drawn by a child process that imports the plotting stack while the runs go on.

    matplotlib and pandas take over a second to import and the figure most of another: in this process they
    would come after the runs; in a child started before them (``analysis.plots.serve``) the imports run on
    another core meanwhile. The child is told the experiment when the runs are done, and ended unused otherwise.
    """

    #: seconds the child may take to draw once asked (a figure of thousands of runs takes minutes); then killed
    TIMEOUT_S = 1800.0

    def __init__(self) -> None:
        # the child imports this checkout's ``analysis``, whichever way the suite was started
        root = str(Path(__file__).resolve().parents[1])
        # once it has answered (its files written and closed), it ends without the interpreter's teardown of
        # matplotlib and pyarrow, which the suite would otherwise wait for
        code = (f"import sys; sys.path.insert(0, {root!r}); from analysis.plots import serve; "
                "from suite.process import exit_without_teardown; exit_without_teardown(serve())")
        # its own session: a Ctrl-C at the terminal stops the suite, which ends the child (close), instead of
        # also interrupting the child's imports with a traceback of their own
        self._child: subprocess.Popen[str] | None = None
        try:
            self._child = subprocess.Popen([sys.executable, "-c", code], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                           text=True, start_new_session=True)
        except OSError as error:  # e.g. no process left to start: the runs go on, only the figure is missing
            self._error = f"the figure process could not start: {error}"

    def draw(self, experiment: Path) -> Path:
        """The figure of ``experiment`` (written to its ``figures/``); ValueError saying why there is none."""
        if self._child is None:
            raise ValueError(self._error)
        request = json.dumps({"experiment": str(experiment.resolve()), "out": str(experiment.resolve() / "figures")})
        answer = ""
        if self._child.poll() is None:
            try:
                answer, _ = self._child.communicate(request + "\n", timeout=self.TIMEOUT_S)
            except BrokenPipeError:  # it died before it read the request; its traceback is on stderr
                self._child.wait()
            except subprocess.TimeoutExpired:
                self.close()
                raise ValueError(f"the figure process took over {self.TIMEOUT_S:g} s and was ended; draw the "
                                 f"figures with: python -m analysis {experiment}") from None
        if self._child.returncode != 0 or not answer.strip():
            raise ValueError(f"the figure process failed (exit code {self._child.returncode})")
        found = json.loads(answer.strip().splitlines()[-1])  # its last line: a library may have printed before
        if "error" in found:
            raise ValueError(found["error"])
        return Path(found["figure"])

    def close(self) -> None:
        """End the child if it is still there (no run finished, or an error stopped the suite)."""
        if self._child is not None and self._child.returncode is None:
            self._child.kill()
            self._child.communicate()


def _run(config: Any, figure: FigureProcess | None, progress: bool, fresh: bool) -> int:
    """Run the grid, then have ``figure`` (None: no figure) draw hypervolume over time."""
    from concurrent.futures import ThreadPoolExecutor

    from suite.cluster import open_client
    from suite.dispatch import local_workers, run_grid

    specs = config.runs()
    experiment = config.results / config.experiment
    print(f"{len(specs)} runs: {len(config.baselines)} baselines x {len(config.tasks)} tasks x "
          f"{len(config.seeds)} seeds -> {experiment}")
    print(f"budget: {config.budget.describe()}")
    try:
        log = _start_log(experiment)
    except OSError as error:  # checked before, but the disk may have filled or the folder changed since
        raise ValueError(f"results: cannot write in {experiment}: {error.strerror or error}") from None
    print(f"log: {log.baseFilename}")
    drawing: Future[Path] | None = None
    try:
        with open_client(config.cluster, config.scheduler, config.dask_workers or local_workers(specs),
                         config.tls) as client:
            print(f"Dask scheduler: {client.scheduler.address}  dashboard: {client.dashboard_link}")
            outcomes = run_grid(client, specs, config.results, config.plugins, progress=progress, fresh=fresh)
            if figure is not None and any(o.error is None for o in outcomes):
                # asked before the cluster closes, whose worker processes take seconds to exit: both at once
                drawer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="figure")
                drawing = drawer.submit(figure.draw, experiment)
                drawer.shutdown(wait=False)
    finally:
        logging.getLogger("suite").removeHandler(log)
        log.close()
    skipped = sum(o.state == "skipped" for o in outcomes)
    resumed = sum(o.state == "resumed" and o.error is None for o in outcomes)
    if skipped or resumed:
        print(f"{skipped} runs were already complete (skipped), {resumed} partial runs resumed")
    done = [o for o in outcomes if o.error is None]
    failed = [o for o in outcomes if o.error is not None]
    for outcome in done:
        print(f"  {outcome.folder}")
    print(f"{len(done)} runs complete in {experiment}")
    if failed:
        print(f"{len(failed)} runs failed:", file=sys.stderr)
        for outcome in failed:
            print(f"  {outcome.spec.task} / {outcome.spec.baseline} / seed {outcome.spec.seed}: {outcome.error}",
                  file=sys.stderr)
    if drawing is not None:
        sys.stdout.flush()  # the summary shows while the figure is still being drawn
        try:
            print(f"hypervolume over time: {drawing.result()}")
        except ValueError as error:  # the runs are done and kept; only the figure could not be drawn
            print(f"warning: no hypervolume figure: {error}", file=sys.stderr)
    return 1 if failed else 0
