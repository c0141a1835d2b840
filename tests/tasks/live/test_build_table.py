"""The table builder: grid expansion, input errors, and a real resumable build on Dask processes."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from tasks.live.build_table import (
    DEFAULT_FIXED,
    DEFAULT_GRID,
    _check_same_measurement,
    build,
    grid_configs,
    main,
    parse_assignments,
)
from tasks.live.measure import PROTOCOL

FIXED = {"n_conv_0": 16, "n_fc_l": 1, "n_fc_0": 16, "kernel_size": 3, "lr_init": 0.01, "batch_size": 128,
         "batch_norm": False, "global_avg_pooling": False}


def test_deeper_widths_follow_layer_zero() -> None:
    configs = grid_configs({"n_conv_l": [1, 3]}, FIXED)
    assert "n_conv_1" not in configs[0]
    assert configs[1]["n_conv_1"] == configs[1]["n_conv_2"] == 16


def test_default_grid_is_in_the_space() -> None:
    assert len(grid_configs(DEFAULT_GRID, DEFAULT_FIXED)) == 48


def test_bad_grids_are_one_clear_error() -> None:
    with pytest.raises(ValueError, match="unknown parameters \\['n_layers'\\]"):
        grid_configs({"n_layers": [1]}, FIXED)
    with pytest.raises(ValueError, match="both in the grid and fixed"):
        grid_configs({"n_conv_0": [16]}, FIXED)
    with pytest.raises(ValueError, match="not in the CNN space"):
        grid_configs({"n_conv_l": [1]}, {**FIXED, "n_conv_0": 4096})
    with pytest.raises(ValueError, match="expected name=value"):
        parse_assignments(["n_conv_l"], multiple=True)


def test_parse_assignments_types_values() -> None:
    assert parse_assignments(["a=1,2", "b=true,false", "c=0.01,x"], multiple=True) == {
        "a": [1, 2], "b": [True, False], "c": [0.01, "x"]}


def test_cli_reports_a_bad_grid_in_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--grid", "n_layers=1,2", "--out", str(tmp_path)]) == 2
    assert capsys.readouterr().err.strip().startswith("error: unknown parameters")


@pytest.mark.slow
def test_build_resumes_and_skips_finished_runs(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    grid = {"n_conv_l": [1, 2]}
    fixed = dict(FIXED)
    argv = ["--name", "toy", "--grid", "n_conv_l=1,2", *(a for k, v in fixed.items() for a in ("--fixed", f"{k}={v}")),
            "--seeds", "0", "--epochs", "2", "--n-workers", "1", "--latency-repeats", "5", "--out", str(tmp_path)]
    assert main(argv) == 0
    first = pd.read_parquet(tmp_path / "toy.parquet")
    assert len(first) == 2 * 2 and set(first["epoch"]) == {1, 2}
    command = json.loads((tmp_path / "toy.provenance.json").read_text())["command"]
    assert command == "python -m tasks.live.build_table " + " ".join(argv)
    second = build("toy", "digits", grid, fixed, [0, 1], 2, tmp_path, n_workers=1, latency_repeats=5)
    assert "2 runs to do" in capsys.readouterr().out.splitlines()[-3]
    table = pd.read_parquet(tmp_path / "toy.parquet")
    assert len(second) == len(table) == 8
    # the first build's rows are kept exactly, not measured again
    pd.testing.assert_frame_equal(table[table.seed == 0].reset_index(drop=True), first.reset_index(drop=True))
    provenance = json.loads((tmp_path / "toy.provenance.json").read_text())
    assert provenance["status"] == "complete" and provenance["grid"] == grid and provenance["seeds"] == [0, 1]
    assert provenance["versions"]["torch"] and provenance["device"]["torch_device"] == "cpu"
    assert provenance["protocol"] == PROTOCOL
    with pytest.raises(ValueError, match="another grid"):
        build("toy", "digits", {"n_conv_l": [1]}, fixed, [0], 2, tmp_path, n_workers=1)
    # a complete table is left as it is, provenance included
    before = {path.name: path.read_bytes() for path in tmp_path.iterdir()}
    build("toy", "digits", grid, fixed, [0, 1], 2, tmp_path, n_workers=1, latency_repeats=5)
    assert {path.name: path.read_bytes() for path in tmp_path.iterdir()} == before


def test_a_resume_that_would_measure_differently_is_refused(tmp_path: Path) -> None:
    previous = {"dataset": "digits", "meter": "none", "device": {"torch_device": "cpu", "cpu": "A", "system": "x"}}
    same = {**previous, "device": {"torch_device": "cpu", "cpu": "A", "system": "y"}, "latency_repeats": 50}
    _check_same_measurement(tmp_path / "t.parquet", previous, same)  # the OS string may change
    with pytest.raises(ValueError, match="measured with device"):
        _check_same_measurement(tmp_path / "t.parquet", previous, {**same, "device": {"torch_device": "cuda:0"}})
    with pytest.raises(ValueError, match="measured with meter none, this build has nvml"):
        _check_same_measurement(tmp_path / "t.parquet", previous, {**same, "meter": "nvml"})
    # the shipped table's provenance predates the protocol record; it was measured by today's protocol
    now = {**same, "protocol": PROTOCOL}
    _check_same_measurement(tmp_path / "t.parquet", previous, now)
    with pytest.raises(ValueError, match="measured with protocol"):
        _check_same_measurement(tmp_path / "t.parquet", {**previous, "protocol": {**PROTOCOL, "torch_threads": 4}}, now)
