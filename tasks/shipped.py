"""The shipped files of bounds and true fronts under ``tabular_data/``: one record format, one CLI.

    python -m tasks.shipped            # check every shipped file against the table it was derived from
    python -m tasks.shipped --write    # rewrite them (after a table or an objective changed)
"""

from __future__ import annotations

import argparse
import json
from typing import Any, Sequence

import moocore
import numpy as np

from tasks.tabular import TABULAR_DATA

SHIPPED_VERSION = "1"


def shipped_record(
    name: str, description: str, source: str, sha256: str, objectives: Sequence[tuple[str, str]],
    recorded: np.ndarray, expected: np.ndarray,
) -> dict[str, Any]:
    """Bounds over every ``recorded`` value (rows x objectives, NaN ignored) and the true front of ``expected``.

    ``objectives`` are (name, unit) pairs. Equal front points are kept once.
    """
    lower, upper = np.nanmin(recorded, axis=0), np.nanmax(recorded, axis=0)
    # an objective constant over a table (one architecture in a grid, say) still needs lower < upper
    upper = np.where(upper > lower, upper, lower + 1.0)
    front = np.unique(expected[moocore.is_nondominated(expected, keep_weakly=False)], axis=0)
    return {
        "task": name,
        "version": SHIPPED_VERSION,
        "description": description,
        "source": source,
        "data_sha256": sha256,
        "objectives": [
            {"name": objective, "lower": float(lo), "upper": float(hi), "unit": unit}
            for (objective, unit), lo, hi in zip(objectives, lower, upper)
        ],
        "front": front.tolist(),
    }


def compute(name: str) -> dict[str, Any]:
    """The shipped record of a tabular task, recomputed from its table."""
    from tasks.live import MEASURED_TABLES
    from tasks.tabular import TABULAR_SOURCES, compute_shipped

    if name in TABULAR_SOURCES:
        return compute_shipped(name)
    if name in MEASURED_TABLES:
        from tasks.live.measured_table import compute_shipped as compute_measured

        return compute_measured(name)
    raise ValueError(f"{name!r} has no shipped file; known: {', '.join([*TABULAR_SOURCES, *MEASURED_TABLES])}")


def main(argv: list[str] | None = None) -> int:
    from tasks.live import MEASURED_TABLES
    from tasks.tabular import TABULAR_SOURCES

    parser = argparse.ArgumentParser(description="Check or write tabular_data/<task>.json (bounds and true front).")
    parser.add_argument("--write", action="store_true", help="write the files (default: check them)")
    parser.add_argument("tasks", nargs="*", default=[*TABULAR_SOURCES, *MEASURED_TABLES])
    args = parser.parse_args(argv)
    stale = []
    for name in args.tasks:
        try:
            shipped = compute(name)
        except ValueError as error:
            parser.error(str(error))
        path = TABULAR_DATA / f"{name}.json"
        if args.write:
            path.write_text(json.dumps(shipped, indent=1) + "\n")
            print(f"wrote {path.name}: {len(shipped['front'])} front points")
        elif not path.exists() or json.loads(path.read_text()) != shipped:
            stale.append(name)
    if stale:
        print(f"out of date: {', '.join(stale)} (run: python -m tasks.shipped --write)")
        return 1
    print(f"{len(args.tasks)} shipped files match their tables")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
