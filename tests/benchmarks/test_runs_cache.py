"""The benchmarks' cache of finished runs: keyed by options and suite version, resumable, never mixing stale rows."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import pytest

from suite.metadata import numpy_simd

ROOT = Path(__file__).resolve().parents[2]
BENCHMARKS = ROOT / "benchmarks"
sys.path.insert(0, str(BENCHMARKS))

import runs_cache  # noqa: E402  (benchmarks/ is a folder of scripts, not a package)


def test_options_and_version_are_part_of_the_key(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cache = tmp_path / "runs.jsonl"
    default = runs_cache.run_key("quality", "fcnet-naval", "nsga2", {}, 0, 100)
    larger = runs_cache.run_key("quality", "fcnet-naval", "nsga2", {"population_size": 20}, 0, 100)
    assert default != larger
    runs_cache.append(cache, default, {"regret": 0.5})
    runs_cache.append(cache, larger, {"regret": 0.25})
    other_version = dict(json.loads(default), suite="0.0.1")
    other_data = dict(json.loads(default), task_identity="1:another table's hash")
    with cache.open("a") as file:
        file.write(json.dumps({"key": other_version, "result": {"regret": 9.0}}) + "\n")
        file.write(json.dumps({"key": other_data, "result": {"regret": 8.0}}) + "\n")
        file.write(json.dumps(["fcnet-naval", "nsga2", 1, 0, 50, 1.1, 0.1, ""]) + "\n")  # the old layout
    found = runs_cache.load(cache, "quality")
    simd = list(numpy_simd())  # where the run was made, beside its result (docs/results.md, "Same seed, same trials")
    assert found == {default: {"regret": 0.5, "numpy_simd": simd}, larger: {"regret": 0.25, "numpy_simd": simd}}
    assert "3 run(s) of another suite version, task version or task data, or of an older layout" in \
        capsys.readouterr().err
    assert runs_cache.load(cache, "async") == {}


@pytest.mark.slow
def test_quality_resumes_from_the_cache_and_marks_what_is_missing(tmp_path: Path,
                                                                  capsys: pytest.CaptureFixture[str]) -> None:
    import baseline_quality  # in this process: a subprocess would pay the imports of every baseline again

    cache = tmp_path / "quality.jsonl"

    def table(baselines: str, no_run: bool) -> list[str]:
        asked = baseline_quality.variants(baselines, ["hpobench-mlp-vehicle"], [])
        baseline_quality.quality(argparse.Namespace(tasks=["hpobench-mlp-vehicle"], baselines=asked, seeds=2,
                                                    budget=12, jobs=1, runs=cache, no_run=no_run))
        return capsys.readouterr().out.splitlines()

    first = table("random_search,nsga2", no_run=False)
    assert len(cache.read_text().splitlines()) == 4  # 2 baselines x 2 seeds, one line each
    # no run made: the same figures from the cache, and a baseline without runs marked as not measured
    again = table("random_search,nsga2,morea", no_run=True)
    assert len(cache.read_text().splitlines()) == 4
    row = next(line for line in first if line.startswith("hpobench-mlp-vehicle     nsga2"))
    assert row in again
    assert "| morea | n/m |" in again


def test_the_cache_keys_runs_by_the_version_each_run_records() -> None:
    # one version for both: the run's metadata (tests/suite/test_metadata.py checks it against pyproject.toml)
    from suite.metadata import package_versions

    key = json.loads(runs_cache.run_key("quality", "fcnet-naval", "nsga2", {}, 0, 100))
    assert key["suite"] == package_versions()["bag-of-baselines"]


def test_a_variant_is_keyed_by_its_registered_baseline_and_options_never_its_label() -> None:
    import baseline_quality

    plain, small, same = baseline_quality.variants("nsga2,small=nsga2@population_size=20,same=nsga2@population_size=20",
                                                   ["fcnet-naval"], [])
    assert (small.label, small.baseline, small.options) == ("small", "nsga2", {"population_size": 20})  # YAML: an int
    identity = {"suite": runs_cache.suite_version(), "task_identity": runs_cache.task_identity("fcnet-naval")}
    # the keys the previous parser (``nsga2``, ``nsga2@population_size=20`` with JSON values) wrote
    before = {"part": "quality", "task": "fcnet-naval", "baseline": "nsga2", "seed": 3, "budget": 100, "workers": 1,
              **identity}
    assert json.loads(baseline_quality._key("fcnet-naval", plain, 3, 100)) == dict(before, options={})
    assert json.loads(baseline_quality._key("fcnet-naval", small, 3, 100)) == dict(before,
                                                                                   options={"population_size": 20})
    assert baseline_quality._key("fcnet-naval", same, 3, 100) == baseline_quality._key("fcnet-naval", small, 3, 100)


def test_the_committed_quality_runs_are_found_by_their_keys() -> None:
    """benchmarks/data/quality_runs.jsonl, whose first lines the previous parser wrote: every row of this suite
    version and task data is what the table looks up for its baseline (so none is re-run or silently missed)."""
    import baseline_quality

    found = runs_cache.load(BENCHMARKS / "data" / "quality_runs.jsonl", "quality")
    if not found:
        pytest.skip("the committed cache holds no run of this suite version")
    for text in found:
        key = json.loads(text)
        variant, = baseline_quality.variants(key["baseline"], [key["task"]], [])
        assert key["options"] == {} and key["workers"] == 1
        assert baseline_quality._key(key["task"], variant, key["seed"], key["budget"]) == text


@pytest.mark.parametrize(("baselines", "message"), [
    ("nsga2@population_size=20", "baselines: 'nsga2@population_size"),  # the old spelling: a label is needed
    ("random_search=random_search@sampler=configspace", "the label random_search names the reference"),
    ("big=nsga2@population_size=zero", "baselines: big: baseline nsga2: option population_size must be an integer"),
])
def test_a_bad_baseline_is_one_line_and_exit_2(baselines: str, message: str, monkeypatch: pytest.MonkeyPatch,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    import baseline_quality

    monkeypatch.setattr(sys, "argv", ["baseline_quality.py", "quality", "--baselines", baselines, "--no-run"])
    with pytest.raises(SystemExit) as stopped:
        baseline_quality.main()
    assert stopped.value.code == 2
    error = capsys.readouterr().err
    assert error.count("\n") == 1 and error.startswith("baseline_quality: ") and message in error, error
