"""A run folder's life: locked by one writer, new / partial / complete, resumed or skipped, never mixed.

Whether a folder holds the run a suite asks for is decided in one place, ``check_same_run``, for
partial and complete folders alike, on the run's key (``suite.metadata.RunKey``: baseline and the
options asked, task name, version and data hash, seed, budget, workers). A folder of another run is
refused with an error rather than re-run: its rows are results someone made, so only the user may
discard them (``--fresh``) or keep them apart (another experiment name).

Nothing is added to a folder whose run cannot be established (rows without a readable metadata.json),
and a complete run is skipped only once its parquet reads and holds the recorded number of rows; one
with a damaged parquet is rebuilt from its .jsonl if those rows are intact and all there, else refused.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import platform
import time
import traceback
from pathlib import Path
from typing import Any, Callable, Iterator, Literal


from baselines import BASELINES, Baseline
from baselines.base import LazySpace, OptionError
from suite.evaluators import Evaluator
from suite.loops import ReplayMismatch, run_wall, simulate
from suite.metadata import RunKey, RunMetadata, load_metadata
from suite.results_format import (LOCK, METADATA, PARQUET, REDO, ROWS, ResultsError, Row, as_json, iter_rows,
                                  parquet_problem, run_folder)
from suite.spec import RunSpec
from suite.writer import RunWriter, compact, recover_rows
from tasks import make_task
from tasks.base import Task

log = logging.getLogger(__name__)

State = Literal["new", "partial", "complete", "repair"]


@contextlib.contextmanager
def run_lock(folder: Path, on_wait: Callable[[str], None] | None = None) -> Iterator[None]:
    """Hold the run folder's lock: one writer per run, whichever process or machine runs it.

    flock is released by the kernel when its holder dies (SIGKILL included), so a run re-executed
    after a lost worker waits only for a writer that is still alive. ``on_wait`` is told once, with
    the holder's pid, when the lock is busy.
    """
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / LOCK, "a+", encoding="utf-8") as file:
        try:
            fcntl.flock(file, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            file.seek(0)
            if on_wait is not None:
                on_wait(file.read().strip() or "unknown")
            fcntl.flock(file, fcntl.LOCK_EX)
        except OSError as error:  # e.g. an NFS mount without lock support
            raise ResultsError(f"cannot lock {folder / LOCK} ({error}): put the results on a file system with "
                               "flock (a local disk, NFSv4, Lustre mounted with -o flock)") from None
        file.seek(0)
        file.truncate()
        file.write(f"{platform.node()}:{os.getpid()}\n")
        file.flush()
        try:
            yield
        finally:
            fcntl.flock(file, fcntl.LOCK_UN)


def make_baseline(name: str, task: Task, seed: int, options: dict[str, Any]) -> Baseline:
    cls = BASELINES.get(name)
    try:
        extra: dict[str, Any] = {}  # only what the task has: a plug-in baseline may not accept them
        if task.known:
            extra["known"] = task.known_objectives
        if task.context is not None:
            extra["context"] = task.context
        # a baseline that may take its space lazily gets it so: a table's ConfigurationSpace costs the import
        # of ConfigSpace (over a second), which random search over the table's levels never needs
        space = LazySpace(lambda: task.space, task.levels) if cls.lazy_space else task.space
        return cls(space, task.objectives, task.fidelity, seed, **extra, **options)
    except OptionError as error:  # a TypeError from inside a baseline is its bug, reported as such
        raise ValueError(f"baseline {name!r}: bad options {options}: {error}") from None


def check_same_run(folder: Path, found: RunMetadata, spec: RunSpec, task: Task) -> None:
    """Raise ResultsError when ``folder`` (its metadata ``found``) holds another run than ``spec`` on ``task``."""
    difference = RunKey.of(spec, task.describe()).difference(found.key())
    if difference is not None:
        raise ResultsError(f"{folder}: holds a run with {difference}; "
                           "use another experiment name or --fresh to start it over")


def run_state(spec: RunSpec, root: Path, task: Task) -> tuple[State, int]:
    """("new" | "partial" | "complete" | "repair", rows recorded) of a spec's folder; ``task`` is the spec's task.

    "repair": a complete run whose parquet is damaged but whose .jsonl rows are intact and all there
    (``execute`` rebuilds the parquet from them). Raises ResultsError, naming the folder and the fix, for
    a folder of another format version or another run, a damaged row, rows without the metadata that
    says which run made them, or a complete run whose files do not hold its recorded rows.
    """
    folder = run_folder(root, spec.experiment, spec.task, spec.baseline, spec.seed)
    if not (folder / METADATA).exists():
        _refuse_rows_of_no_run(folder)
        return "new", 0
    try:
        metadata = load_metadata(folder)
    except ResultsError as error:
        raise ResultsError(f"{error}; {REDO}") from None
    check_same_run(folder, metadata, spec, task)
    if metadata.status == "complete":
        return _verify_complete(folder, metadata), metadata.n_evaluations or 0
    if (folder / PARQUET).exists() and not (folder / ROWS).exists():
        # compaction never removes the rows before the run is marked complete
        raise ResultsError(f"{folder}: a running run with {PARQUET} but no {ROWS}; {REDO}")
    # read only: a torn last line is cut off by the run's writer, under the run's lock
    return "partial", sum(1 for _ in iter_rows(folder / ROWS)) if (folder / ROWS).exists() else 0


def _refuse_rows_of_no_run(folder: Path) -> None:
    """Rows without metadata.json belong to no known run: a new run appended to them would mix two runs."""
    found = [name for name in (ROWS, PARQUET) if (folder / name).exists() and (folder / name).stat().st_size > 0]
    if found:
        raise ResultsError(f"{folder}: holds {' and '.join(found)} but no {METADATA}, so no one can tell which "
                           f"run made its rows; {REDO}")


def _verify_complete(folder: Path, metadata: RunMetadata) -> State:
    """"complete" when the parquet reads and holds the recorded number of rows, "repair" when it does
    not but the .jsonl rows (still there after a crash before their removal) do; else raise."""
    recorded = metadata.n_evaluations
    problem = parquet_problem(folder, recorded)
    if problem is None:
        if recorded is None:
            log.warning("%s: complete; its metadata records no row count (an older version of the suite), so "
                        "only checked that %s reads", folder, PARQUET)
        return "complete"
    if recorded is not None and _intact_rows(folder / ROWS) == recorded:
        return "repair"
    rows = f"no intact {ROWS} with all {recorded} rows" if recorded is not None else \
        "no recorded row count to rebuild it against"
    raise ResultsError(f"{folder}: metadata says complete but {problem}, and {rows}; {REDO}")


def _intact_rows(path: Path) -> int | None:
    """The number of rows in a .jsonl whose every line is whole (a torn last line is no complete run)."""
    try:
        data = path.read_bytes()
        if data and not data.endswith(b"\n"):
            return None
        return sum(1 for _ in iter_rows(path))
    except (OSError, ResultsError):
        return None


def execute(spec: RunSpec, root: Path, evaluator: Evaluator | None = None) -> Path:
    """Run ``spec`` into its folder under ``root`` and return the folder.

    A complete run is skipped (after checking its files; a damaged parquet is rebuilt from intact rows),
    a partial one resumed (see ``suite.loops``). Only one process writes a run at a time (``run_lock``):
    a second execution waits, then finds the run complete or resumes it. ``evaluator`` runs a
    wall-clock task's evaluations (``suite.evaluators.DaskEvaluator`` on Dask workers); without it they
    run on threads here. Raises ResultsError for a folder that holds another run or that cannot be used.
    """
    folder = run_folder(root, spec.experiment, spec.task, spec.baseline, spec.seed)
    task = make_task(spec.task)
    with run_lock(folder, on_wait=lambda holder: log.info("%s: waiting for its writer %s", folder, holder)):
        state, n_rows = run_state(spec, root, task)
        if state == "repair":
            compact(folder)
            (folder / ROWS).unlink()
            log.warning("%s: rebuilt %s from the %d rows of %s", folder, PARQUET, n_rows, ROWS)
        if state in ("complete", "repair"):
            return folder
        return _execute_locked(spec, folder, task, evaluator)


def _execute_locked(spec: RunSpec, folder: Path, task: Task, evaluator: Evaluator | None) -> Path:
    baseline = make_baseline(spec.registered, task, spec.seed, spec.options)
    metadata = RunMetadata.new(spec, task.describe(), baseline.options())
    rows: list[Row] = []
    if (folder / METADATA).exists():  # a partial run of this spec: run_state has checked it
        previous = load_metadata(folder)
        if as_json(previous.baseline.options) != as_json(metadata.baseline.options):
            # the same request, but a default of the baseline changed since: resuming would mix two settings
            raise ResultsError(f"{folder}: holds a partial run of {spec.baseline} with the options "
                               f"{previous.baseline.options} in force, this version has {metadata.baseline.options}; "
                               "use --fresh or another experiment name")
        rows = recover_rows(folder / ROWS)
        (folder / PARQUET).unlink(missing_ok=True)  # a crash after compaction, before "complete"
        # where it goes on: a resume on another CPU continues the run there (docs/results.md, "Same seed")
        previous.resumed.append({"at": metadata.started, "rows": len(rows), "device": metadata.device})
        previous.error = None
        metadata = previous
        log.info("%s: resuming after %d recorded rows", folder, len(rows))
    writer = RunWriter(folder, metadata, n_rows=len(rows))
    started = time.perf_counter()
    try:
        if task.clock == "simulated":
            try:
                simulate(baseline, task, spec.seed, spec.budget, spec.n_workers, writer.append, replay=rows)
            except ReplayMismatch as mismatch:
                # nothing new was written: start over with a fresh baseline (tabular runs are cheap)
                log.warning("%s: cannot resume exactly (%s); starting the run over", folder, mismatch)
                writer.discard_rows()
                writer.metadata.resumed[-1]["restarted"] = str(mismatch)
                baseline = make_baseline(spec.registered, task, spec.seed, spec.options)
                simulate(baseline, task, spec.seed, spec.budget, spec.n_workers, writer.append)
        else:
            run_wall(baseline, task, spec.seed, spec.budget, spec.n_workers, writer.append, evaluator=evaluator,
                     eval_timeout_s=spec.eval_timeout_s, replay=rows)
    except BaseException:
        writer.fail(traceback.format_exc(limit=5))
        raise
    writer.complete(wall_s=time.perf_counter() - started)
    return folder
