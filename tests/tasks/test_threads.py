"""torch_threads: the thread count inside the block, the caller's restored after it (an error too); torch_seeded:
the seed's numbers inside the block whatever other threads seed meanwhile, the caller's stream after it."""

from __future__ import annotations

import threading

import numpy as np
import pytest
import torch

from tasks.live.cnn import make_model
from tasks.threads import torch_seeded, torch_threads


def test_torch_threads_restores_the_callers_setting() -> None:
    previous = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        with torch_threads(1):
            assert torch.get_num_threads() == 1
        assert torch.get_num_threads() == 2
        with torch_threads(None):  # None leaves the setting alone
            assert torch.get_num_threads() == 2
        with pytest.raises(RuntimeError), torch_threads(1):
            raise RuntimeError("restored on an error too")
        assert torch.get_num_threads() == 2
    finally:
        torch.set_num_threads(previous)


def _weights(model: torch.nn.Module) -> np.ndarray:
    return torch.cat([p.detach().flatten() for p in model.parameters()]).numpy()


def test_seeded_blocks_and_model_weights_on_three_threads_each_get_their_seeds_numbers() -> None:
    """Two runs' model fits (many draws each) in one process, and a live evaluation's weights (make_model)."""
    config = {"n_conv_l": 2, "n_conv_0": 16, "n_conv_1": 32, "n_fc_l": 1, "n_fc_0": 64, "kernel_size": 3,
              "batch_norm": False, "global_avg_pooling": False}
    fit_draws = {}
    for seed in (7, 8):
        with torch_seeded(seed):
            fit_draws[seed] = [torch.rand(2000).numpy() for _ in range(5)]
    expected_weights = _weights(make_model(config, (1, 8, 8), 10, seed=3))
    start, wrong = threading.Barrier(3), []

    def fit(seed: int) -> None:
        start.wait()
        for _ in range(60):
            with torch_seeded(seed):
                if not all(np.array_equal(torch.rand(2000).numpy(), d) for d in fit_draws[seed]):
                    wrong.append(f"fit {seed}")

    def evaluate() -> None:
        start.wait()
        for _ in range(60):
            if not np.array_equal(_weights(make_model(config, (1, 8, 8), 10, seed=3)), expected_weights):
                wrong.append("evaluate")

    threads = [threading.Thread(target=fit, args=(7,)), threading.Thread(target=fit, args=(8,)),
               threading.Thread(target=evaluate)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert wrong == []


def test_torch_seeded_gives_the_caller_its_stream_back() -> None:
    torch.manual_seed(11)
    torch.rand(3)
    expected = torch.rand(5)
    torch.manual_seed(11)
    torch.rand(3)
    with torch_seeded(1):
        inside = torch.rand(5)
    assert torch.equal(torch.rand(5), expected)
    with torch_seeded(1):
        assert torch.equal(torch.rand(5), inside)
