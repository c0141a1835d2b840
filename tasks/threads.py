"""Torch's process-wide state for a block of work, restored after: its intra-op thread count and its global
random stream. One place for tasks and baselines.

It lives in ``tasks`` because the arrows run one way: a task imports nothing from ``baselines``, a baseline may
import from ``tasks``. Importing this module does not import torch (a baseline module stays cheap to import).
"""

from __future__ import annotations

import threading
from contextlib import contextmanager
from typing import Iterator

#: held by every seeded block: torch's default generators belong to the process, so two seeded blocks on two threads
#: (two runs' model fits in one Dask worker, MO-BANANAS' ensemble next to qNEHVI's GP) would draw from one stream in
#: turns and neither get its seed's numbers. Reentrant: a seeded block may call code that seeds its own. Live
#: evaluations draw their weights from generators of their own (``tasks.live.cnn.make_model``): they neither take
#: this lock nor wait for a baseline's fit.
_RANDOM_STREAM = threading.RLock()


@contextmanager
def torch_threads(n: int | None) -> Iterator[None]:
    """Run torch on ``n`` intra-op threads (None: as it is), restoring the caller's setting afterwards.

    Users: the live tasks' training and latency timing (one thread, so concurrent evaluations do not compete
    for cores and a measurement does not depend on how many a worker has), and the baselines' own models.
    Those are tiny (an MLP of a few thousand weights, a GP on a few hundred points): measured on the loaded
    2-core machine, a backward pass of a 40x64 layer took 0.6 ms on one thread and 126 ms on two, and a
    10 x 10 Cholesky 0.1 ms on one and 32 ms on two (the threads wait on each other). What the caller set is
    restored for its own torch work.
    """
    import torch

    previous = torch.get_num_threads()
    if n is not None:
        torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(previous)


@contextmanager
def torch_seeded(seed: int) -> Iterator[None]:
    """Run a block on torch's global random stream seeded with ``seed``, no other thread drawing from it meanwhile,
    and give the caller its own stream back afterwards.

    The CUDA devices' streams are forked and seeded too (``torch.random.fork_rng``'s default). Other threads'
    seeded blocks wait for this one (a fit of seconds holds it for seconds); draws from the global stream outside
    any seeded block cannot be stopped, so code that needs reproducible numbers next to a baseline either runs in
    a seeded block or draws from a ``torch.Generator`` of its own.
    """
    import torch

    with _RANDOM_STREAM, torch.random.fork_rng():
        torch.manual_seed(seed)
        yield
