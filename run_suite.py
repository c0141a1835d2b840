#!/usr/bin/env python
"""The design card's entry point: ``python run_suite.py [options]`` is ``bag-of-baselines run [options]``.

    python run_suite.py                                   # the default job (every baseline, small task set)
    python run_suite.py --baselines random_search --tasks fcnet-naval --seeds 3 --budget 100
    python run_suite.py --list                            # registered baselines and tasks

Every option: ``python run_suite.py --help``; every command of the suite: docs/cli.md.
"""

from __future__ import annotations

from suite.cli import run
from suite.process import exit_without_teardown


def main(argv: list[str] | None = None) -> int:
    return run(argv, prog="run_suite.py")


if __name__ == "__main__":
    # every run folder, the log and the figure are written and closed once main returns; an exception
    # never gets here: it exits the usual way, with its traceback
    exit_without_teardown(main())
