"""benchmarks/multifidelity_family.py: labelled variants as methods, bad input, and its cache of finished runs."""

from __future__ import annotations

import json
import runpy
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "multifidelity_family.py"


def _family(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    """(exit status, stdout, stderr) of the script run in this process (its imports are this test run's)."""
    monkeypatch.setattr(sys, "argv", [str(SCRIPT), *args])
    try:
        runpy.run_path(str(SCRIPT), run_name="__main__")
        status = 0
    except SystemExit as stop:
        status = int(stop.code or 0)
    out, err = capsys.readouterr()
    return status, out, err


@pytest.mark.parametrize(("method", "message"), [
    ("a=nsga2@population=3", "nsga2 has no option(s) population"),
    ("a=no_such_baseline", "unknown baseline 'no_such_baseline'"),
    ("x/y=nsga2", "the label 'x/y' must be a folder name"),
])
def test_a_bad_method_is_one_line_and_exit_2(method: str, message: str, monkeypatch: pytest.MonkeyPatch,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    status, _, err = _family(monkeypatch, capsys, "--tasks", "cnn-digits-mf", "--methods", method, "random_search")
    assert status == 2 and len(err.strip().splitlines()) == 1, err
    assert message in err


def test_a_variant_runs_under_its_label_and_a_second_call_reads_the_cache(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    cache = tmp_path / "runs.jsonl"
    args = ("--tasks", "cnn-digits-mf", "--seeds", "2", "--budget-full", "3", "--cache", str(cache),
            "--methods", "asha_eta2=mo_asha@eta=2", "random_search")
    status, first, err = _family(monkeypatch, capsys, *args)
    assert status == 0, err
    rows = [json.loads(line) for line in cache.read_text().splitlines()]
    assert sorted((r["key"]["label"], r["key"]["baseline"], r["key"]["seed"]) for r in rows) == [
        ("asha_eta2", "mo_asha", 0), ("asha_eta2", "mo_asha", 1), ("random_search", "random_search", 0),
        ("random_search", "random_search", 1)]
    assert {json.dumps(r["key"]["options"]) for r in rows} == {'{"eta": 2}', "{}"}
    assert "asha_eta2 " in first and "asha_eta2      vs random_search" in first
    status, second, _ = _family(monkeypatch, capsys, *args)
    assert status == 0 and second == first  # the same table, read back, not re-run
    assert len(cache.read_text().splitlines()) == 4


def test_the_summary_counts_tasks_where_a_method_is_significantly_ahead_or_behind(
        capsys: pytest.CaptureFixture[str]) -> None:
    family = runpy.run_path(str(SCRIPT))  # its functions, main() not run

    def runs(values: list[float]) -> list[tuple[list[float], list[float], float, int]]:
        return [([v] * 3, [v] * 3, 0.0, 1) for v in values]

    low, high = [float(v) for v in range(10)], [float(v) for v in range(10, 20)]
    # separated samples of 10: exact two-sided p = 2 / C(20, 10) ~ 1e-5; interleaved ones are no difference
    by_task = {"t1": {"m": runs(high), "motpe": runs(low)}, "t2": {"m": runs(low), "motpe": runs(high)},
               "t3": {"m": runs(low[::2] + high[::2]), "motpe": runs(low[1::2] + high[1::2])}}
    family["summary"](by_task)
    lines = capsys.readouterr().out.splitlines()
    assert [line.split() for line in lines if line.startswith("  m ")] == [
        ["m", "vs", "motpe", "@0.25:", "1/1", "@0.5:", "1/1", "@1:", "1/1"]] * 2
