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
