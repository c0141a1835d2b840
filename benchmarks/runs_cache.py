"""A JSON-lines cache of finished benchmark runs, so that a long study resumes where it stopped and a
costly baseline can be added later. Each line is ``{"key": {...}, "result": {...}}``; the key names
everything a run's result depends on: the benchmark part, the task with its version and data hash (an LCBench
model or a table of other data is another task), the baseline *and its options*, the seed, the budget, the
workers where they apply, and the suite's version (a run made by another version of
the suite may propose other trials). Lines of another suite version or of an older layout are left out, and
the caller is told how many on stderr, so that no stale row is mixed silently into a table.

Own code: a cache of benchmark rows is a dozen lines and no maintained library fits it better.
"""

from __future__ import annotations

import functools
import json
import sys
from pathlib import Path
from typing import Any

from suite.metadata import numpy_simd, suite_version


@functools.lru_cache(maxsize=None)
def task_identity(name: str) -> str:
    """``version:data hash`` of the task ``name`` as built here."""
    from tasks import make_task

    task = make_task(name)
    return f"{task.version}:{task.data_hash()}"


def run_key(part: str, task: str, baseline: str, options: dict[str, object], seed: int, budget: float,
            workers: int = 1, **extra: object) -> str:
    """The canonical text of a run's key (sorted JSON), usable as a dictionary key; ``extra``: what else a
    benchmark keys its runs by (a variant's label)."""
    return json.dumps({"part": part, "task": task, "task_identity": task_identity(task), "baseline": baseline,
                       "options": options, "seed": seed, "budget": budget, "workers": workers,
                       "suite": suite_version(), **extra}, sort_keys=True)


def _same_task(key: dict[str, Any]) -> bool:
    try:
        return "task" in key and key.get("task_identity") == task_identity(key["task"])
    except (ValueError, OSError, RuntimeError, ImportError):  # a task not available here: its rows cannot count
        return False


def load(path: Path | None, part: str) -> dict[str, dict[str, Any]]:
    """The runs of ``part`` in ``path`` made by this suite version, by key; says on stderr what it left out."""
    if path is None or not path.exists():
        return {}
    current = suite_version()
    found: dict[str, dict[str, Any]] = {}
    stale = 0
    for line in path.read_text().splitlines():
        row = json.loads(line)
        key = row.get("key") if isinstance(row, dict) else None
        if not isinstance(key, dict) or key.get("suite") != current or not _same_task(key):
            stale += 1
        elif row["key"]["part"] == part:
            found[json.dumps(row["key"], sort_keys=True)] = row["result"]
    if stale:
        print(f"{path}: {stale} run(s) of another suite version, task version or task data, or of an older layout "
              f"left out; they are not mixed into this table", file=sys.stderr)
    return found


def append(path: Path | None, key: str, result: dict[str, Any]) -> None:
    """Add a finished run, with the SIMD paths numpy took here (``suite.metadata.numpy_simd``): not part of the
    key, as runs on two CPUs are equally valid runs of the seed, but they need not be the same runs."""
    if path is not None:
        with path.open("a") as file:
            file.write(json.dumps({"key": json.loads(key), "result": {**result, "numpy_simd": list(numpy_simd())}})
                       + "\n")
