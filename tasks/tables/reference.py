"""Reference records of tables: computed from a table, shipped as ``tabular_data/<task>.json``, checked by a CLI.

    python -m tasks.tables.reference                 # check every shipped file against its table
    python -m tasks.tables.reference --write [TASK]  # rewrite them (after a table or an objective changed)

A record holds the objective bounds (minimum and maximum over every recorded value), the reference point
and the true front of the expected values, with the version of the task and the hash of its data. The
computation takes arrays, not a ``Table``, so a task backed by a model can build its record the same way
from a sample (``front_kind="best-known"``). Recipes import this module only inside functions (its CLI
imports them), and ``tasks`` imports it only when a shipped task is built, so ``python -m`` runs it fresh.
"""

from __future__ import annotations

import json
import sys
from dataclasses import replace
from pathlib import Path
from typing import Any, Literal, Sequence

import numpy as np

import tabular_data
from tasks.base import Objective, ReferenceRecord
from tasks.command_line import OneLineParser
from tasks.tables.recipes import shipped_recipes
from tasks.tables.table import Table, TableTask

REFERENCE_POINT = 1.1  # per objective, in normalised space: the common choice of the MO-HPO literature


def compute_reference(
    task: str, version: str, data_sha256: str, objectives: Sequence[tuple[str, str]], recorded: np.ndarray,
    expected: np.ndarray, front_kind: Literal["true", "best-known"] = "true",
) -> ReferenceRecord:
    """Bounds over every ``recorded`` value (points x objectives, NaN ignored) and the front of ``expected``.

    ``objectives`` are (name, unit) pairs. Equal front points are kept once.
    """
    import moocore

    lower, upper = np.nanmin(recorded, axis=0), np.nanmax(recorded, axis=0)
    # an objective constant over a table (one architecture in a grid, say) still needs lower < upper
    upper = np.where(upper > lower, upper, lower + 1.0)
    front = np.unique(expected[moocore.is_nondominated(expected, keep_weakly=False)], axis=0)
    return ReferenceRecord(
        task=task, version=version, data_sha256=data_sha256,
        objectives=tuple(Objective(name, float(lo), float(hi), unit)
                         for (name, unit), lo, hi in zip(objectives, lower, upper)),
        reference_point=(REFERENCE_POINT,) * len(objectives),
        front=tuple(tuple(point) for point in front.tolist()),
        front_kind=front_kind,
    )


def computed(table: Table) -> Table:
    """``table`` with the record computed from it: over every configuration at every fidelity level (a
    network trained for fewer epochs is a model too, and analysis counts every evaluation at its fidelity)."""
    m = table.values.shape[-1]
    record = compute_reference(table.name, table.version, table.sha256, table.objectives,
                               recorded=table.values.reshape(-1, m), expected=table.expected.reshape(-1, m))
    return replace(table, reference=record)


def to_json(record: ReferenceRecord, description: str, source: str) -> dict[str, Any]:
    """The record as written to ``tabular_data/<task>.json``, with what the data is and where it comes from."""
    return {
        "task": record.task,
        "version": record.version,
        "description": description,
        "source": source,
        "data_sha256": record.data_sha256,
        "objectives": [{"name": o.name, "lower": o.lower, "upper": o.upper, "unit": o.unit} for o in record.objectives],
        "reference_point": list(record.reference_point),
        "front_kind": record.front_kind,
        "front": [list(point) for point in record.front],
    }


def from_json(data: dict[str, Any]) -> ReferenceRecord:
    return ReferenceRecord(
        task=data["task"], version=data["version"], data_sha256=data["data_sha256"],
        objectives=tuple(Objective(o["name"], o["lower"], o["upper"], o["unit"]) for o in data["objectives"]),
        reference_point=tuple(data["reference_point"]),
        front=tuple(tuple(point) for point in data["front"]),
        front_kind=data["front_kind"],
    )


def read_reference(name: str, folder: Path = tabular_data.FOLDER) -> ReferenceRecord:
    path = folder / f"{name}.json"
    if not path.exists():
        raise FileNotFoundError(f"{path.name} is missing; write it with: python -m tasks.tables.reference --write {name}")
    return from_json(json.loads(path.read_text()))


def table_json(table: Table) -> dict[str, Any]:
    """The file content of ``table``'s attached record."""
    if table.reference is None:
        raise ValueError(f"table {table.name!r} has no reference record")
    return to_json(table.reference, table.description, table.source)


def write_reference(table: Table, folder: Path = tabular_data.FOLDER) -> Path:
    """Write ``<folder>/<table.name>.json`` from the record attached to ``table``."""
    path = folder / f"{table.name}.json"
    path.write_text(json.dumps(table_json(table), indent=1) + "\n")
    return path


def shipped(table: Table, folder: Path = tabular_data.FOLDER) -> Table:
    """``table`` with the record shipped for it under ``folder``."""
    return replace(table, reference=read_reference(table.name, folder))


def shipped_task(name: str) -> TableTask:
    """The task of shipped table ``name``: its record is read now, its table at the first evaluation."""
    recipe = shipped_recipes()[name]
    return TableTask(recipe.layout(name), read_reference(name), lambda: recipe.load(name))


def main(argv: list[str] | None = None) -> int:
    recipes = shipped_recipes()
    parser = OneLineParser(prog="python -m tasks.tables.reference",
                                     description="Check or write tabular_data/<task>.json (bounds and true front).")
    parser.add_argument("--write", action="store_true", help="write the files (default: check them)")
    parser.add_argument("tasks", nargs="*", default=list(recipes), help="task names (default: every shipped table)")
    args = parser.parse_args(argv)
    unknown = [name for name in args.tasks if name not in recipes]
    if unknown:
        print(f"error: {', '.join(map(repr, unknown))} has no shipped file; known: {', '.join(recipes)}", file=sys.stderr)
        return 2
    stale = []
    for name in args.tasks:
        table = computed(recipes[name].load(name))
        record = table_json(table)
        if args.write:
            path = write_reference(table)
            print(f"wrote {path.name}: {len(record['front'])} front points")
        elif not (path := tabular_data.FOLDER / f"{name}.json").exists() or json.loads(path.read_text()) != record:
            stale.append(name)
    if stale:
        print(f"out of date: {', '.join(stale)} (run: python -m tasks.tables.reference --write {' '.join(stale)})")
        return 1
    print(f"{len(args.tasks)} reference files match their tables")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
