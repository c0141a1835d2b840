"""torch_threads: the thread count inside the block, the caller's restored after it (an error too)."""

from __future__ import annotations

import pytest
import torch

from tasks.threads import torch_threads


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
