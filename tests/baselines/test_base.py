"""The base class: trial ids kept by ask/tell whatever a subclass does, and options declared as data."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest

from baselines import Baseline, Option, OptionError, Proposal
from tasks.base import Result, Trial
from toy_tasks import ToyTask

OK = Result(objectives={"f1": 1.0, "f2": 2.0}, cost_s=1.0)


class Forgetful(Baseline):
    """Keeps no ids at all and records what it is told (the bookkeeping is the base class's)."""

    OPTIONS = {
        "count": Option.integer(3, at_least=1),
        "share": Option.real(0.5, above=0, at_most=1),
        "rate": Option.real(None, at_least=0, below=2, none_means="from the task"),
        "greedy": Option.flag(False),
        "kind": Option.choice("a", ("a", "b")),
    }

    def __init__(self, **options: Any) -> None:
        task = ToyTask()
        super().__init__(task.space, task.objectives, task.fidelity, 0, **options)
        self.proposed: list[int] = []
        self.observed: list[tuple[int, bool]] = []
        # names a careless subclass might use for its own state: they must not disturb the ids
        self._pending = "mine"
        self._next_id = -5

    def propose(self, trial_id: int) -> Proposal:
        self.proposed.append(trial_id)
        return Proposal({"x": 0.5, "n": 4, "k": 2, "kind": "a", "y": 0.25, "const": "fixed"})

    def observe(self, trial: Trial, result: Result, values: np.ndarray | None, replayed: bool) -> None:
        self.observed.append((trial.id, replayed))


def replay(baseline: Baseline, ids: list[int]) -> None:
    for trial_id in ids:
        baseline.tell(Trial(trial_id, {"x": 0.5}), OK)


@pytest.mark.parametrize("ids", [[0, 1, 2], [7, 2, 12, 0], [12, 7, 2], [3]])
def test_ids_stay_unique_and_increasing_after_replayed_trials(ids: list[int]) -> None:
    baseline = Forgetful()
    replay(baseline, ids)
    asked = [baseline.ask().id for _ in range(4)]
    assert asked == list(range(max(ids) + 1, max(ids) + 5))
    assert baseline.proposed == asked  # propose is told the id that ask hands out
    assert baseline.observed == [(i, True) for i in ids]


def test_a_replayed_trial_told_while_own_trials_are_pending() -> None:
    baseline = Forgetful()
    first, second = baseline.ask(), baseline.ask()  # ids 0 and 1
    replay(baseline, [5, 3])
    baseline.tell(second, OK)
    baseline.tell(first, Result.failure("boom"))
    third = baseline.ask()
    assert (first.id, second.id, third.id) == (0, 1, 6)
    assert baseline.observed == [(5, True), (3, True), (1, False), (0, False)]
    # told once, an own trial is no longer pending: told again, it counts as replayed
    baseline.tell(third, OK)
    baseline.tell(third, OK)
    assert baseline.observed[-2:] == [(6, False), (6, True)]


@pytest.mark.parametrize("method", ["ask", "tell"])
def test_overriding_ask_or_tell_is_refused(method: str) -> None:
    with pytest.raises(TypeError, match=f"overrides Baseline.{method}.*propose"):
        type("Overrider", (Forgetful,), {method: lambda self, *args: None})


def test_a_default_outside_its_range_is_refused_when_the_class_is_defined() -> None:
    with pytest.raises(TypeError, match="default 0 of option count"):
        type("BadDefault", (Forgetful,), {"OPTIONS": {"count": Option.integer(0, at_least=1)}})


def test_options_are_filled_with_defaults_and_stored_as_declared() -> None:
    assert Forgetful.check_options({}) == {"count": 3, "share": 0.5, "rate": None, "greedy": False, "kind": "a"}
    checked = Forgetful.check_options({"count": 1, "share": 1, "rate": 0, "greedy": True, "kind": "b"})
    assert checked == {"count": 1, "share": 1.0, "rate": 0.0, "greedy": True, "kind": "b"}
    assert isinstance(checked["share"], float) and isinstance(checked["rate"], float)
    assert Forgetful(count=7).options() == {**Forgetful.check_options({}), "count": 7}


@pytest.mark.parametrize(("options", "message"), [
    ({"cont": 2}, "baseline Forgetful has no option(s) cont; its options: count (default 3), share (default 0.5),"),
    ({"count": 0}, "baseline Forgetful: option count must be an integer >= 1, got 0"),
    ({"count": 2.0}, "option count must be an integer >= 1, got 2.0"),
    ({"count": True}, "option count must be an integer >= 1, got True"),
    ({"count": None}, "option count must be an integer >= 1, got None"),
    ({"share": 0}, "option share must be a number in (0, 1], got 0"),
    ({"share": 1.5}, "option share must be a number in (0, 1], got 1.5"),
    ({"share": math.nan}, "option share must be a number in (0, 1], got nan"),
    ({"share": "0.5"}, "option share must be a number in (0, 1], got '0.5'"),
    ({"rate": 2}, "option rate must be a number in [0, 2), or null (from the task), got 2"),
    ({"greedy": 1}, "option greedy must be true or false, got 1"),
    ({"kind": "c"}, "option kind must be one of a, b, got 'c'"),
])
def test_bad_options_are_one_clear_error(options: dict, message: str) -> None:
    with pytest.raises(OptionError) as raised:
        Forgetful.check_options(options)
    assert message in str(raised.value) and "\n" not in str(raised.value)
    with pytest.raises(OptionError, match="Forgetful"):
        Forgetful(**options)


def test_an_option_error_is_both_a_value_and_a_type_error() -> None:
    # callers written for a bad value (ValueError) or an unexpected keyword (TypeError) both catch it
    assert issubclass(OptionError, ValueError) and issubclass(OptionError, TypeError)


def test_random_draws_come_from_the_seed_through_a_private_copy_of_the_space() -> None:
    first, again = Forgetful(), Forgetful()
    assert first._random_space is not first.space
    assert first._random_space.sample_configuration() == again._random_space.sample_configuration()
    assert first._rng.random() == np.random.default_rng(0).random()
