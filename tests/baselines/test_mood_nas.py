"""MOOD-NAS, tiny: the regulariser against hand counts, a few supernet steps giving an NB201 cell, the
regulariser pushing the architecture away from large operations, and a discrete cell trained on digits."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from baselines.oneshot.mood_nas import OPS, Settings, expected_size, operation_parameters, search, train_cell
from tasks import make_task
from tasks.live.data import load_digits
from tasks.tables.recipes.devices import parse_arch_string

TINY = Settings(channels=4, n_cells=1, steps=8, batch=32)


@pytest.fixture(scope="module")
def digits():  # noqa: ANN201 - the Dataset of tasks.live.data
    return load_digits()


def test_operation_sizes_and_the_expected_size_by_hand() -> None:
    c = 4
    # none, skip, 1x1 conv + BN (weight and bias per channel), 3x3 conv + BN, pooling
    assert operation_parameters(c).tolist() == [0, 0, c * c + 2 * c, 9 * c * c + 2 * c, 0]
    sizes = torch.tensor(operation_parameters(c))
    uniform = torch.zeros(6, len(OPS))
    assert float(expected_size(uniform, sizes)) == pytest.approx((24 + 152) / 5 / 152)
    largest = torch.full((6, len(OPS)), -50.0)
    largest[:, OPS.index("nor_conv_3x3")] = 50.0
    assert float(expected_size(largest, sizes)) == pytest.approx(1.0)


def test_a_tiny_search_gives_a_cell_of_the_nb201_tables(digits) -> None:  # noqa: ANN001
    import torch

    threads, random_state = torch.get_num_threads(), torch.random.get_rng_state()
    result = search(digits.x_train, digits.y_train, digits.x_val, digits.y_val, 10, nu=0.5, seed=1, settings=TINY)
    assert len(result.cell) == 6 and set(result.cell) <= set(OPS)
    config = parse_arch_string(result.arch)
    assert [config[f"Op{i}"] for i in range(6)] == result.cell
    make_task("nb201-cifar10").check_config(config)
    assert result.cpu_s > 0 and 0 <= result.search_val_error <= 1
    again = search(digits.x_train, digits.y_train, digits.x_val, digits.y_val, 10, nu=0.5, seed=1, settings=TINY)
    assert again.alpha == result.alpha  # one seed, one thread: the same search
    # the caller's torch state is its own: the search restores the thread count and the global random stream
    assert torch.get_num_threads() == threads and torch.equal(torch.random.get_rng_state(), random_state)


def test_a_strong_regulariser_moves_weight_away_from_large_operations(digits) -> None:  # noqa: ANN001
    weights = {}
    for nu in (0.0, 50.0):
        result = search(digits.x_train, digits.y_train, digits.x_val, digits.y_val, 10, nu=nu, seed=2, settings=TINY)
        weights[nu] = torch.softmax(torch.tensor(result.alpha), dim=-1).numpy()
    conv3 = OPS.index("nor_conv_3x3")
    assert weights[50.0][:, conv3].mean() < weights[0.0][:, conv3].mean()
    free = [OPS.index(op) for op in ("skip_connect", "avg_pool_3x3")]
    assert weights[50.0][:, free].sum(axis=1).mean() > weights[0.0][:, free].sum(axis=1).mean()


def test_a_discrete_cell_is_trained_on_the_search_data(digits) -> None:  # noqa: ANN001
    cell = ["nor_conv_3x3"] + ["skip_connect"] * 5
    error, params = train_cell(cell, digits.x_train, digits.y_train, digits.x_test, digits.y_test, 10, 0, TINY)
    # stem 3x3 conv 1 -> 4 and its BN, one 3x3 conv + BN, the linear head 4 -> 10
    assert params == (9 * 4 + 8) + (9 * 16 + 8) + (4 * 10 + 10)
    assert 0.0 <= error <= 1.0
    empty = ["none"] * 6  # no path from input to output: the cell outputs zeros, the head sees a constant
    error_empty, _ = train_cell(empty, digits.x_train, digits.y_train, digits.x_test, digits.y_test, 10, 0, TINY)
    assert error_empty >= 0.8 and np.isfinite(error_empty)
