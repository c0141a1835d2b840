"""Latency measurement: quartiles in order, the thread setting restored, input checked."""

from __future__ import annotations

import pytest
import torch

from tasks.live.latency import measure_latency


def test_latency_on_cpu() -> None:
    model = torch.nn.Sequential(torch.nn.Conv2d(1, 8, 3), torch.nn.Flatten(), torch.nn.Linear(8 * 36, 10))
    before = torch.get_num_threads()
    latency = measure_latency(model, (1, 8, 8), repeats=30)
    assert 0 < latency.q25_ms <= latency.median_ms <= latency.q75_ms
    assert latency.repeats == 30 and latency.device == "cpu" and latency.batch_size == 1
    assert torch.get_num_threads() == before


def test_bad_options_are_one_clear_error() -> None:
    with pytest.raises(ValueError, match="repeats >= 1"):
        measure_latency(torch.nn.Linear(2, 2), (2,), repeats=0)


@pytest.mark.gpu
def test_latency_on_a_real_gpu_uses_cuda_events() -> None:
    if not torch.cuda.is_available():
        pytest.skip("no CUDA GPU on this machine")
    model = torch.nn.Sequential(torch.nn.Conv2d(3, 64, 3), torch.nn.ReLU(), torch.nn.Flatten(), torch.nn.Linear(64 * 900, 10))
    latency = measure_latency(model.cuda(), (3, 32, 32))
    print(f"CUDA latency: median {latency.median_ms:.4f} ms, IQR {latency.iqr_ms:.4f} ms")
    assert latency.device.startswith("cuda") and latency.median_ms > 0
