"""One measurement protocol: a live evaluation and the table builder's row of the same run agree."""

from __future__ import annotations

from tasks.live.build_table import evaluate_point
from tasks.threads import torch_threads
from tasks.live.task import CNNTask

SMALL = {"n_conv_l": 1, "n_conv_0": 16, "n_fc_l": 1, "n_fc_0": 16, "kernel_size": 3, "lr_init": 0.01,
         "batch_norm": False, "batch_size": 128, "global_avg_pooling": False}


def test_live_evaluation_and_table_row_record_the_same_run() -> None:
    # A client process trains with as many threads as it likes, a Dask worker with one; the thread count
    # changes the float sums of training, so only one protocol makes the two measurements agree.
    with torch_threads(2):
        result = CNNTask("digits", meter="none", latency_repeats=5).evaluate(SMALL, fidelity=2, seed=3)
    with torch_threads(1):
        rows = evaluate_point("digits", None, SMALL, 3, 2, "none", "cpu", 5)
    row = rows[-1]
    assert row["epoch"] == 2 and row["val_error"] == result.objectives["error"]
    assert row["test_error"] == 1.0 - result.info["test_accuracy"]
    assert row["train_loss"] == result.info["train_loss"]
    # conv 1->16 (3x3) + flatten 16*4*4 -> 16 -> 10, counted by hand
    assert row["n_params"] == result.info["n_params"] == (9 * 16 + 16) + (256 + 1) * 16 + (16 + 1) * 10
    assert row["log10_params"] == result.objectives["log10_params"]
