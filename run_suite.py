#!/usr/bin/env python
"""The design card's entry point: ``python run_suite.py [options]`` is ``bag-of-baselines run [options]``.

    python run_suite.py                                   # the default job (every baseline, small task set)
    python run_suite.py --baselines random_search --tasks fcnet-naval --seeds 3 --budget 100
    python run_suite.py --list                            # registered baselines and tasks

Every option: ``python run_suite.py --help``; every command of the suite: docs/cli.md.
"""

from __future__ import annotations

import logging
import os
import sys
from typing import NoReturn

from suite.cli import run


def main(argv: list[str] | None = None) -> int:
    return run(argv, prog="run_suite.py")


def exit_without_teardown(status: int) -> NoReturn:
    """End the process with ``status`` once the suite has returned, skipping the interpreter's teardown.

    Every run folder and the log are written and closed, the cluster is closed and the figure drawn: what is left
    is the teardown of Dask, pyarrow and numpy (1.3 to 1.6 s after the small job's run returned, against 0.1 to
    0.3 s without it, three jobs each way on 2 cores at load average 8). An exception never gets here: it exits
    the usual way, with its traceback.
    """
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(status)


if __name__ == "__main__":
    exit_without_teardown(main())
