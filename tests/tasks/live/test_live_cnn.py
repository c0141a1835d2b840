"""The joint CNN space, the parameter count against torch's own, and reproducible training."""

from __future__ import annotations

import math

import pytest
import torch
from ConfigSpace import Configuration

from tasks.live.cnn import (
    Architecture,
    build_model,
    cnn_space,
    log10_parameter_bounds,
    make_model,
    parameter_count,
    train,
)
from tasks.live.data import SHAPES, load_digits

SMALL = {"n_conv_l": 1, "n_conv_0": 16, "n_fc_l": 1, "n_fc_0": 32, "kernel_size": 3, "lr_init": 0.01,
         "batch_norm": False, "batch_size": 64, "global_avg_pooling": False}


def test_layer_widths_are_active_only_for_present_layers() -> None:
    space = cnn_space()
    config = Configuration(space, values={**SMALL, "n_conv_l": 2, "n_conv_1": 20})
    config.check_valid_configuration()
    with pytest.raises(Exception):
        Configuration(space, values={**SMALL, "n_conv_1": 20}).check_valid_configuration()
    for sampled in space.sample_configuration(50):
        assert ("n_fc_2" in sampled) == (sampled["n_fc_l"] == 3)


@pytest.mark.parametrize("dataset", list(SHAPES))
def test_parameter_count_matches_torch(dataset: str) -> None:
    shape, classes = SHAPES[dataset]
    for config in cnn_space(seed=1).sample_configuration(15):
        arch = Architecture.from_config(config)
        model = build_model(arch, shape, classes)
        assert parameter_count(arch, shape, classes) == sum(p.numel() for p in model.parameters())


def test_log10_bounds_are_reached_and_hold_for_samples() -> None:
    shape, classes = SHAPES["digits"]
    low, high = log10_parameter_bounds(shape, classes)
    # the smallest network: one 16-channel conv, global pooling, one 2-unit hidden layer
    smallest = Architecture((16,), (2,), 3, False, True)
    assert math.log10(parameter_count(smallest, shape, classes)) == pytest.approx(low)
    assert low == pytest.approx(math.log10((1 * 9 + 1) * 16 + (16 + 1) * 2 + (2 + 1) * 10))
    for config in cnn_space(seed=2).sample_configuration(200):
        count = parameter_count(Architecture.from_config(config), shape, classes)
        assert low <= math.log10(count) <= high


@pytest.mark.slow
def test_training_is_reproducible_for_a_seed_and_learns() -> None:
    data = load_digits()
    _, first = train(SMALL, data, 2, seed=3)
    _, again = train(SMALL, data, 2, seed=3)
    _, other = train(SMALL, data, 1, seed=4)
    assert [(r.val_accuracy, r.train_loss) for r in first] == [(r.val_accuracy, r.train_loss) for r in again]
    assert first[0].train_loss != other[0].train_loss
    assert first[-1].val_accuracy > 0.5  # chance is 0.1
    assert first[0].train_time_s < first[1].train_time_s  # cumulative


def test_batch_norm_and_pooling_build_for_the_deepest_net() -> None:
    arch = Architecture((16, 16, 16), (8, 8, 8), 7, True, False)
    model = build_model(arch, SHAPES["digits"][0], 10)
    assert model(torch.rand(2, 1, 8, 8)).shape == (2, 10)


@pytest.mark.parametrize(("batch_norm", "global_avg_pooling", "n_conv"), [(False, False, 0), (True, False, 2), (True, True, 3)])
def test_weights_are_torchs_own_initialisation_for_the_seed_and_leave_the_global_stream_alone(
        batch_norm: bool, global_avg_pooling: bool, n_conv: int) -> None:
    config = {"n_conv_l": n_conv, **{f"n_conv_{i}": 16 * (i + 1) for i in range(n_conv)}, "n_fc_l": 2, "n_fc_0": 64,
              "n_fc_1": 8, "kernel_size": 5, "batch_norm": batch_norm, "global_avg_pooling": global_avg_pooling}
    with torch.random.fork_rng(devices=[]):  # the reference: torch's reset_parameters from the seeded global stream
        torch.manual_seed(5)
        expected = build_model(Architecture.from_config(config), (3, 16, 16), 10).state_dict()
    torch.manual_seed(123)
    following = torch.rand(4)
    torch.manual_seed(123)
    found = make_model(config, (3, 16, 16), 10, seed=5).state_dict()
    assert torch.equal(torch.rand(4), following)  # nothing drawn from the global stream
    assert found.keys() == expected.keys()
    for key in expected:
        assert torch.equal(found[key], expected[key]), key
