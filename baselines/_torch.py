"""Torch's intra-op thread count for a block of a baseline's own model work, restored after."""

from __future__ import annotations

from contextlib import contextmanager
from typing import Iterator


@contextmanager
def torch_threads(n: int | None) -> Iterator[None]:
    """Run torch on ``n`` intra-op threads (None: as it is), restoring the caller's setting afterwards.

    The baselines' models are tiny (an MLP of a few thousand weights, a GP on a few hundred points): measured
    on the loaded 2-core machine, a backward pass of a 40x64 layer took 0.6 ms on one thread and 126 ms on two,
    and a 10 x 10 Cholesky 0.1 ms on one and 32 ms on two (the threads wait on each other). So they run on
    one thread; what the caller set is restored for its own torch work. (``tasks.live.latency`` has the
    same for the tasks' measurements; a baseline imports no task code but the vocabulary.)
    """
    import torch

    previous = torch.get_num_threads()
    if n is not None:
        torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(previous)
