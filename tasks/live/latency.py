"""Inference latency of a model on the device that runs it: warm-up, then the median of timed forward passes.

On a CPU one forward pass is timed with ``time.perf_counter`` using one torch thread (batch-1
inference is what an edge device serves, and one thread keeps concurrent evaluations from competing
for cores); on a CUDA GPU with CUDA events around each pass, synchronised before reading.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from tasks.threads import torch_threads


@dataclass(frozen=True)
class Latency:
    """Milliseconds per forward pass of one batch: median and quartiles over ``repeats`` passes."""

    median_ms: float
    q25_ms: float
    q75_ms: float
    repeats: int
    batch_size: int
    device: str

    @property
    def iqr_ms(self) -> float:
        return self.q75_ms - self.q25_ms


def measure_latency(
    model: nn.Module,
    input_shape: tuple[int, ...],
    batch_size: int = 1,
    warmup: int = 10,
    repeats: int = 50,
    device: str | torch.device | None = None,
    cpu_threads: int = 1,
) -> Latency:
    """Time ``repeats`` forward passes of a random batch after ``warmup`` untimed ones.

    Args:
        model: the network; it is put in eval mode and run without gradients.
        input_shape: one example's shape (channels, height, width).
        batch_size: examples per forward pass.
        device: where to run; default the model's device.
        cpu_threads: torch threads for CPU timing.
    """
    if batch_size < 1 or warmup < 0 or repeats < 1:
        raise ValueError(f"need batch_size >= 1, warmup >= 0, repeats >= 1; got {batch_size}, {warmup}, {repeats}")
    device = torch.device(device) if device is not None else next(model.parameters()).device
    model = model.to(device).eval()
    x = torch.rand((batch_size, *input_shape), generator=torch.Generator().manual_seed(0)).to(device)
    times: list[float] = []
    with torch.no_grad():
        if device.type == "cuda":
            for _ in range(warmup):
                model(x)
            torch.cuda.synchronize(device)
            for _ in range(repeats):
                begin, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
                begin.record()
                model(x)
                end.record()
                end.synchronize()
                times.append(begin.elapsed_time(end))
        else:
            with torch_threads(cpu_threads):
                for _ in range(warmup):
                    model(x)
                for _ in range(repeats):
                    started = time.perf_counter()
                    model(x)
                    times.append((time.perf_counter() - started) * 1e3)
    q25, median, q75 = np.percentile(times, [25, 50, 75])
    return Latency(float(median), float(q25), float(q75), repeats, batch_size, str(device))
