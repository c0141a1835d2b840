"""How the suite's processes end once their work is written: without the interpreter's teardown of its modules."""

from __future__ import annotations

import atexit
import os
import sys
from typing import NoReturn


def exit_without_teardown(status: int) -> NoReturn:
    """End this process with ``status``, running every exit handler but skipping the teardown of the modules.

    Call it only once every file the process writes is written and closed. The teardown of Dask, pyarrow, numpy
    and the baselines' libraries is a visible part of a small job's wall time (``benchmarks/startup.py --stages``
    prints when the process exits after its figure is drawn), and a Dask worker's outlasted its nanny's 4 s wait
    under load and was killed. The exit handlers still run (logging's shutdown, multiprocessing's, weakref finalizers such as a
    TemporaryDirectory's removal), so only the modules' teardown is skipped.
    """
    atexit._run_exitfuncs()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(status)
