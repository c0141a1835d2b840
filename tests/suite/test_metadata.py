"""A run's metadata: a typed record that round-trips through metadata.json, with package versions."""

from __future__ import annotations

import json
import re
from importlib.metadata import version
from pathlib import Path

import pytest

from suite import metadata
from suite.lifecycle import execute
from suite.metadata import BaselineRecord, RunKey, RunMetadata
from suite.results_format import ResultsError
from suite.spec import Budget, RunSpec

ROOT = Path(__file__).resolve().parents[2]
SPEC = RunSpec("random_search", "nb201-cifar10", 2, Budget(evaluations=5), n_workers=2, experiment="m")


@pytest.fixture(scope="module")
def written(tmp_path_factory: pytest.TempPathFactory) -> dict:
    folder = execute(SPEC, tmp_path_factory.mktemp("metadata"))
    return json.loads((folder / "metadata.json").read_text())


def test_a_written_metadata_file_round_trips_through_the_record(written: dict) -> None:
    record = RunMetadata.from_json(written)
    assert record.baseline == BaselineRecord("random_search", written["baseline"]["options"], {})
    assert record.budget == Budget(evaluations=5) and record.status == "complete" and record.n_evaluations == 5
    assert json.loads(json.dumps(record.to_json())) == written


def test_a_record_round_trips_through_json_text_with_every_field_set() -> None:
    record = RunMetadata(
        baseline=BaselineRecord("b", {"a": 1, "c": [1, 2]}, {"a": 1}), task={"name": "t", "version": "2",
                                                                             "data_hash": "ff", "clock": "wall"},
        seed=3, budget=Budget(seconds=9.5), n_workers=4, clock="wall", experiment="x", eval_timeout_s=2.0,
        resources={"GPU": 1.0}, versions={"python": "3"}, device={"node": "n"}, started="then",
        status="complete", resumed=[{"at": "now", "rows": 2}], error="boom", finished="later", wall_s=1.5,
        n_evaluations=7,
    )
    assert RunMetadata.from_json(json.loads(json.dumps(record.to_json()))) == record


def test_every_run_records_the_versions_of_its_packages(written: dict) -> None:
    assert written["versions"]["numpy"] == version("numpy") and written["versions"]["python"]
    assert written["versions"]["ConfigSpace"] == version("ConfigSpace")


def test_every_run_records_the_suites_own_version_from_the_checkout_not_a_stale_install(
    written: dict, monkeypatch: pytest.MonkeyPatch
) -> None:
    # read here with a plain pattern, not tomllib as the code does
    checkout = re.search(r'^version = "([^"]+)"$', (ROOT / "pyproject.toml").read_text(), re.MULTILINE)
    assert checkout and written["versions"]["bag-of-baselines"] == checkout.group(1)
    # an editable install keeps the version it was installed at (0.3.0 when the checkout said 0.4.0)
    monkeypatch.setattr(metadata, "version", lambda name: "0.0.0")
    assert metadata.suite_version() == checkout.group(1)


def test_metadata_with_a_missing_or_unknown_key_is_refused(written: dict) -> None:
    with pytest.raises(ResultsError, match=r"missing keys \['seed'\], unknown keys \[\]"):
        RunMetadata.from_json({k: v for k, v in written.items() if k != "seed"})
    with pytest.raises(ResultsError, match=r"unknown keys \['colour'\]"):
        RunMetadata.from_json({**written, "colour": "red"})
    with pytest.raises(ResultsError, match="budget needs evaluations or seconds"):
        RunMetadata.from_json({**written, "budget": {"evaluations": None, "seconds": None}})


def test_the_run_key_of_the_metadata_equals_the_key_of_its_spec(written: dict) -> None:
    found = RunMetadata.from_json(written).key()
    assert RunKey.of(SPEC, written["task"]) == found
    other = RunSpec("random_search", "nb201-cifar10", 2, Budget(evaluations=5), n_workers=2,
                    options={"n_initial": 3})
    assert RunKey.of(other, written["task"]).difference(found) == "options {}, this suite asks {'n_initial': 3}"


def test_the_device_records_the_simd_paths_numpy_runs_on(written: dict) -> None:
    # numpy's own account (show_runtime's "found", which leaves out what NPY_DISABLE_CPU_FEATURES turned off);
    # the session turns AVX-512 off (tests/conftest.py), so a machine with it records no X86_V4 here
    import contextlib
    import io

    import numpy

    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        numpy.show_runtime()
    found = re.search(r"'found': \[([^\]]*)\]", printed.getvalue())
    assert found is not None, printed.getvalue()
    assert written["device"]["numpy_simd"] == re.findall(r"'(\w+)'", found.group(1))
    assert not [f for f in written["device"]["numpy_simd"] if f.startswith(("AVX512", "X86_V4"))]
