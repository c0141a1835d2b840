"""Budgets are honest: finite and of a sane size, both kinds together end a run at whichever comes first,
and a time budget alone cannot make a run ask for ever."""

from __future__ import annotations

import math
import resource
import subprocess
import sys

import pytest

from baselines.random_search import RandomSearch
from suite import loops
from suite.cli import run
from suite.grid import build_config
from suite.loops import simulate
from suite.spec import MAX_EVALUATIONS, MAX_SECONDS, Budget
from tasks import make_task


@pytest.mark.parametrize(("budget", "message"), [
    ({"seconds": math.inf}, "budget_seconds: expected a finite number of seconds > 0"),
    ({"seconds": -math.inf}, "budget_seconds: expected a finite number"),
    ({"seconds": math.nan}, "got nan"),
    ({"seconds": 0.0}, "budget_seconds: expected a finite number of seconds > 0"),
    ({"seconds": MAX_SECONDS * 2}, "at most 31622400 (366 days) per run"),
    ({"evaluations": 0}, "budget: expected 1 to 1,000,000 evaluations per run, got 0"),
    ({"evaluations": MAX_EVALUATIONS + 1}, "got 1,000,001"),
    ({"evaluations": 10, "seconds": math.inf}, "budget_seconds"),
    ({}, "a budget needs evaluations or seconds"),
])
def test_a_budget_that_could_not_end_or_is_absurd_is_refused(budget: dict, message: str) -> None:
    with pytest.raises(ValueError) as raised:
        Budget(**budget)
    assert message in str(raised.value)


def test_the_largest_budgets_are_allowed() -> None:
    Budget(evaluations=MAX_EVALUATIONS, seconds=MAX_SECONDS)


@pytest.mark.parametrize(("budget", "said"), [
    (Budget(evaluations=100), "100 evaluations per run"),
    (Budget(seconds=3600.0), "3600 s of the run's clock per run"),
    (Budget(evaluations=10, seconds=3600.0), "10 evaluations or 3600 s of the run's clock per run, "
                                             "whichever comes first"),
])
def test_the_plan_says_the_budget_and_whichever_comes_first(budget: Budget, said: str) -> None:
    assert budget.describe() == said


def _rows(budget: Budget) -> list[dict]:
    task = make_task("fcnet-naval")
    rows: list[dict] = []
    simulate(RandomSearch(task.space, task.objectives, task.fidelity, 0), task, 0, budget, 2, rows.append)
    return rows


def test_both_budget_kinds_end_the_run_at_whichever_comes_first() -> None:
    by_time = _rows(Budget(seconds=2000.0))
    assert 3 < len(by_time) < 200 and max(r["end"] for r in by_time) <= 2000.0
    # the evaluations come first: the time budget is far away
    assert len(_rows(Budget(evaluations=3, seconds=2000.0))) == 3
    # the time comes first: an evaluation budget far beyond it leaves the rows of the time budget alone
    assert _rows(Budget(evaluations=len(by_time) + 50, seconds=2000.0)) == by_time


def test_a_time_budget_alone_stops_with_an_error_at_the_evaluation_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    # a year of simulated time on cheap trials would be hundreds of millions of rows: the run stops at the
    # limit as a failure (not "complete"), and says what to give
    monkeypatch.setattr(loops, "MAX_EVALUATIONS", 20)
    with pytest.raises(RuntimeError, match="asked 20 trials .* give an evaluation budget too"):
        _rows(Budget(seconds=MAX_SECONDS))
    assert len(_rows(Budget(evaluations=20, seconds=MAX_SECONDS))) == 20  # an evaluation budget is not limited


@pytest.mark.parametrize(("values", "message"), [
    ({"budget_seconds": math.inf}, "budget_seconds: expected a finite number of seconds"),
    ({"budget_seconds": math.nan}, "budget_seconds"),
    ({"budget": 10**12}, "budget: expected 1 to 1,000,000 evaluations per run"),
])
def test_the_suite_refuses_absurd_budgets_and_seeds_at_once(values: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        build_config(values)


@pytest.mark.parametrize(("args", "message"), [
    (["--budget-seconds", "inf"], "budget_seconds: expected a finite number of seconds"),
    (["--budget-seconds", "nan"], "budget_seconds"),
    (["--budget", "1000000000000"], "budget: expected 1 to 1,000,000 evaluations per run"),
])
def test_the_command_line_answers_an_absurd_budget_in_one_line(
    args: list[str], message: str, capsys: pytest.CaptureFixture[str],
) -> None:
    assert run([*args, "--tasks", "fcnet-naval", "--baselines", "random_search"]) == 2
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1


@pytest.mark.parametrize("seeds", ["1000000000", str(10**100)])
def test_a_huge_number_of_seeds_is_refused_before_they_are_made(seeds: str) -> None:
    # in its own process with 4 GiB of address space: 10**9 seeds made first would take ~36 GB
    code = f"import sys; from suite.cli import run; sys.exit(run(['--seeds', '{seeds}', '--tasks', 'fcnet-naval']))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                          preexec_fn=lambda: resource.setrlimit(resource.RLIMIT_AS, (4 << 30, 4 << 30)))
    assert done.returncode == 2 and "seeds: at most 10,000 seeds" in done.stderr, done.stderr
    assert len(done.stderr.strip().splitlines()) == 1


def test_help_says_whichever_comes_first(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        run(["--help"])
    help_text = " ".join(capsys.readouterr().out.split())
    budget = help_text[help_text.index("--budget BUDGET "):help_text.index("--workers WORKERS ")]
    assert budget.count("whichever comes first ends the run") == 2, budget  # said for both flags
