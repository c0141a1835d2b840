"""The benchmarks' cache of finished runs: keyed by options and suite version, resumable, never mixing stale rows."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import pytest

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"
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
    assert found == {default: {"regret": 0.5}, larger: {"regret": 0.25}}
    assert "3 run(s) of another suite version, task version or task data, or of an older layout" in \
        capsys.readouterr().err
    assert runs_cache.load(cache, "async") == {}


@pytest.mark.slow
def test_quality_resumes_from_the_cache_and_marks_what_is_missing(tmp_path: Path,
                                                                  capsys: pytest.CaptureFixture[str]) -> None:
    import baseline_quality  # in this process: a subprocess would pay the imports of every baseline again

    cache = tmp_path / "quality.jsonl"

    def table(baselines: str, no_run: bool) -> list[str]:
        baseline_quality.quality(argparse.Namespace(tasks=["hpobench-mlp-vehicle"], baselines=baselines.split(","),
                                                    seeds=2, budget=12, jobs=1, runs=cache, no_run=no_run))
        return capsys.readouterr().out.splitlines()

    first = table("random_search,nsga2", no_run=False)
    assert len(cache.read_text().splitlines()) == 4  # 2 baselines x 2 seeds, one line each
    # no run made: the same figures from the cache, and a baseline without runs marked as not measured
    again = table("random_search,nsga2,morea", no_run=True)
    assert len(cache.read_text().splitlines()) == 4
    row = next(line for line in first if line.startswith("hpobench-mlp-vehicle     nsga2"))
    assert row in again
    assert "| morea | n/m |" in again
