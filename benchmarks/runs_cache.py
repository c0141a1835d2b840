"""A JSON-lines cache of finished benchmark runs, so that a long study resumes where it stopped and a
costly baseline can be added later. Each line is ``{"key": {...}, "result": {...}}``; the key names
everything a run's result depends on: the benchmark part, the task, the baseline *and its options*, the
seed, the budget, the workers where they apply, and the suite's version (a run made by another version of
the suite may propose other trials). Lines of another suite version or of an older layout are left out, and
the caller is told how many on stderr, so that no stale row is mixed silently into a table.

Own code: a cache of benchmark rows is a dozen lines and no maintained library fits it better.
"""

from __future__ import annotations

import json
import sys
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any


def suite_version() -> str:
    try:
        return version("bag-of-baselines")
    except PackageNotFoundError:  # a checkout run without installing: the cache cannot tell versions apart
        return "unknown"


def run_key(part: str, task: str, baseline: str, options: dict[str, object], seed: int, budget: int,
            workers: int = 1) -> str:
    """The canonical text of a run's key (sorted JSON), usable as a dictionary key."""
    return json.dumps({"part": part, "task": task, "baseline": baseline, "options": options, "seed": seed,
                       "budget": budget, "workers": workers, "suite": suite_version()}, sort_keys=True)


def load(path: Path | None, part: str) -> dict[str, dict[str, Any]]:
    """The runs of ``part`` in ``path`` made by this suite version, by key; says on stderr what it left out."""
    if path is None or not path.exists():
        return {}
    current = suite_version()
    found: dict[str, dict[str, Any]] = {}
    stale = 0
    for line in path.read_text().splitlines():
        row = json.loads(line)
        if not isinstance(row, dict) or "key" not in row or row["key"].get("suite") != current:
            stale += 1
        elif row["key"]["part"] == part:
            found[json.dumps(row["key"], sort_keys=True)] = row["result"]
    if stale:
        print(f"{path}: {stale} run(s) of another suite version or an older layout (no options in the key) "
              f"left out; they are not mixed into this table", file=sys.stderr)
    return found


def append(path: Path | None, key: str, result: dict[str, Any]) -> None:
    if path is not None:
        with path.open("a") as file:
            file.write(json.dumps({"key": json.loads(key), "result": result}) + "\n")
