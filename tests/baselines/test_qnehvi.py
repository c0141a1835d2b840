"""qNEHVI: the encoding of mixed and conditional spaces (values computed by hand; distinct for every
configuration of a finite conditional space), pending asks, and torch's global state left alone."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
import torch
from ConfigSpace import Categorical, ConfigurationSpace, EqualsCondition, InCondition, Integer, OrdinalHyperparameter
from ConfigSpace.util import deactivate_inactive_hyperparameters

from baselines._encoding import INACTIVE, Encoding
from baselines.qnehvi import QNEHVI
from tasks import make_task
from tasks.base import to_python
from toy_tasks import conditional_space


def test_encoding_of_each_parameter_type() -> None:
    encoding = Encoding(conditional_space())
    assert encoding.names == ["k", "kind=a", "kind=b", "kind=c", "n", "x", "m", "y", "w"]  # no column for const
    vector = encoding.encode({"const": "fixed", "x": 0.01, "n": 8, "k": 4, "kind": "b", "m": 3})
    expected = {
        "x": (math.log(0.01) - math.log(1e-3)) / (math.log(1.0) - math.log(1e-3)),  # log scale: 1/3
        "n": math.log(8) / math.log(64),  # log integer 1..64
        "k": 2 / 3,  # ordinal 1, 2, 4, 8: position 2 of 0..3
        "kind=a": 0.0, "kind=b": 1.0, "kind=c": 0.0,
        "m": 0.3,  # integer 0..10
        "y": INACTIVE,  # inactive: kind is not a
        "w": INACTIVE,  # inactive: m is not above 5
    }
    assert dict(zip(encoding.names, vector)) == pytest.approx(expected, abs=1e-12)
    small = Encoding(small_conditional_space())
    off = dict(zip(small.names, small.encode({"a": "off", "b": 2})))
    # the inactive categorical c is all zeros, the inactive integers d and e sit at INACTIVE
    assert off == {"a=on": 0.0, "a=off": 1.0, "b": 0.5, "c=x": 0.0, "c=y": 0.0, "c=z": 0.0,
                   "d": INACTIVE, "e": INACTIVE}


def small_conditional_space() -> ConfigurationSpace:
    """A finite space with a condition on a conditional parameter: every configuration can be listed."""
    space = ConfigurationSpace()
    a = Categorical("a", ["on", "off"])
    b = OrdinalHyperparameter("b", [1, 2, 3])
    c = Categorical("c", ["x", "y", "z"])
    d = Integer("d", (0, 4))
    e = Integer("e", (1, 16), log=True)
    space.add([a, b, c, d, e])
    space.add([EqualsCondition(c, a, "on"), InCondition(d, c, ["x", "y"]), EqualsCondition(e, a, "on")])
    return space


def test_encoding_is_distinct_for_every_configuration_of_a_conditional_space() -> None:
    space = small_conditional_space()
    values = {hp.name: (list(hp.choices) if hasattr(hp, "choices") else list(hp.sequence) if hasattr(hp, "sequence")
                        else list(range(hp.lower, hp.upper + 1))) for hp in space.values()}
    configs = {tuple(sorted(to_python(deactivate_inactive_hyperparameters(dict(zip(values, combination)), space))
                            .items())) for combination in itertools.product(*values.values())}
    # a = off: 3 (b); a = on: 3 (b) x 16 (e) x (2 (c = x, y) x 5 (d) + 1 (c = z))
    assert len(configs) == 3 + 3 * 16 * 11
    encoding = Encoding(space)
    vectors = np.array([encoding.encode(dict(config)) for config in configs])
    assert len({v.tobytes() for v in vectors}) == len(configs)
    assert vectors.min() >= 0.0 and vectors.max() <= 1.0


def test_pending_asks_are_distinct_and_global_torch_state_is_left_alone() -> None:
    task = make_task("hpobench-mlp-kc1")
    baseline = QNEHVI(task.space, task.objectives, task.fidelity, seed=0, n_initial_trials=5, n_candidates=100,
                      n_mutations=5, mc_samples=16)
    told = []
    for i in range(6):
        trial = baseline.ask()
        told.append(trial.config)
        baseline.tell(trial, task.evaluate(trial.config, trial.fidelity, seed=i))
    threads, state = torch.get_num_threads(), torch.random.get_rng_state()
    pending = [baseline.ask() for _ in range(3)]  # model-based asks, each with the previous ones pending
    assert torch.get_num_threads() == threads and torch.equal(torch.random.get_rng_state(), state)
    configs = [trial.config for trial in pending]
    for config in configs:
        task.check_config(config)
        assert config not in told
    assert len({tuple(sorted(c.items())) for c in configs}) == 3
