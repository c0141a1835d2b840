"""What a small tabular job does not pay for: ConfigSpace and scipy.stats for random search over a table's levels,
pandas to write a run's parquet (pyarrow alone writes the columns pandas wrote), and the figure's imports on
the run's path (a child process imports them while the runs go on)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import matplotlib.image
import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest

from analysis import plot_experiment
from suite.results_format import ResultsError, Row, iter_rows, make_row, rows_table
from suite.writer import compact
from tasks.base import Result, Trial

ROOT = Path(__file__).resolve().parents[2]


def suite_rows() -> list[Row]:
    """Rows as a run writes them: told and expected values, a failure (no values, no expected ones), a NaN
    objective (null), fidelities None, integer and real, and an info field."""
    names = ["error", "size"]
    results = [
        (Trial(0, {"lr": 0.1, "act": "relu"}), Result({"error": 0.25, "size": 3.0}, 1.5, {"recorded_seed": 1},
                                                       expected={"error": 0.2, "size": 3.0})),
        (Trial(1, {"lr": 0.01, "act": "tanh"}, fidelity=3), Result.failure("diverged", cost_s=0.5)),
        (Trial(2, {"lr": 1e-5, "act": "relu"}, fidelity=2.5),
         Result({"error": float("nan"), "size": 7.0}, 2.0, {"missing": {"error": "no meter"}},
                expected={"error": float("nan"), "size": 7.0})),
    ]
    return [make_row(trial, result, names, start=i, end=i + 1.25, worker=i % 2, eval_seed=i)
            for i, (trial, result) in enumerate(results)]


CASES = {
    "suite rows": suite_rows(),
    "a failure first": suite_rows()[1:],  # its columns come first: the expected ones appear later
    "only failures": [suite_rows()[1]],
    "integers only": [{"a": 1, "b": 2}, {"a": 3, "b": 4}],
    "booleans and None": [{"flag": True, "none": None}, {"flag": None, "none": None}, {"flag": False}],
    "a column missing in a row": [{"s": "a", "i": 1, "b": True, "n": None}, {"z": 1}],
    "floats at their edges": [{"x": 0.1 + 0.2}, {"x": 1 / 3}, {"x": 5e-324}, {"x": 1.7976931348623157e308}, {"x": -0.0}],
    "strings that look like dates": [{"when": "2024-01-01", "at": "2024-01-01T10:00:00"}, {"when": "x", "at": None}],
    "an integer then a float": [{"x": 1}, {"x": 2.5}, {"x": 3}],
    "no rows": [],
}


@pytest.mark.parametrize("rows", CASES.values(), ids=CASES.keys())
def test_a_parquet_written_by_pyarrow_alone_holds_what_pandas_wrote(rows: list[Row], tmp_path: Path) -> None:
    """The reference is what the suite wrote before: ``DataFrame.from_records(rows).to_parquet(index=False)``."""
    reference, written = tmp_path / "pandas.parquet", tmp_path / "run"
    pd.DataFrame.from_records(rows).to_parquet(reference, index=False) if rows else \
        pd.DataFrame().to_parquet(reference, index=False)
    written.mkdir()
    (written / "evaluations.jsonl").write_text("".join(json.dumps(row) + "\n" for row in rows))
    assert compact(written) == len(rows)
    ours, theirs = pq.read_table(written / "evaluations.parquet"), pq.read_table(reference)
    assert ours.schema.remove_metadata() == theirs.schema.remove_metadata()
    assert ours.to_pylist() == theirs.to_pylist()
    pd.testing.assert_frame_equal(pd.read_parquet(written / "evaluations.parquet"), pd.read_parquet(reference))


def test_a_column_of_mixed_types_is_refused_in_one_line(tmp_path: Path) -> None:
    (tmp_path / "rows.jsonl").write_text('{"x": 1}\n{"x": "a"}\n')
    with pytest.raises(ResultsError, match="changed from number to string in row 1; a parquet column has one type"):
        rows_table(tmp_path / "rows.jsonl")


@pytest.mark.parametrize("plot", [pytest.param(True, marks=pytest.mark.slow), False], ids=["figure", "no-plot"])
def test_a_table_run_of_random_search_imports_neither_configspace_nor_scipy_stats_nor_pandas(
        plot: bool, tmp_path: Path) -> None:
    """The whole command (arguments, Dask, the run, its files, the figure), in a fresh interpreter: the figure's
    libraries are imported by the one child process it starts for them, which draws what ``plot_experiment``
    draws in this process, and ``--no-plot`` starts none."""
    flags = ["--baselines", "random_search", "--tasks", "fcnet-naval", "--seeds", "1", "--budget", "30", "--quiet",
             "--results", str(tmp_path), *([] if plot else ["--no-plot"])]
    code = (
        "import sys\n"
        "started = []\n"
        "sys.addaudithook(lambda event, args: started.append(args[0]) if event == 'subprocess.Popen' else None)\n"
        "from suite.cli import run\n"
        f"code = run({flags!r})\n"
        "print(sorted(m for m in ('ConfigSpace', 'scipy.stats', 'pandas', 'matplotlib') if m in sys.modules))\n"
        "print(started.count(sys.executable))\n"  # Python children (platform.processor() runs uname)
        "sys.exit(code)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    *output, modules, children = done.stdout.strip().splitlines()
    assert modules == "[]" and int(children) == int(plot)
    assert pq.read_table(tmp_path / "default/fcnet-naval/random_search/0/evaluations.parquet").num_rows == 30
    figure = tmp_path / "default/figures/hypervolume_over_time.png"
    assert figure.exists() == plot and (f"hypervolume over time: {figure}" in output) == plot
    if plot:
        assert figure.with_suffix(".pdf").stat().st_size > 1000
        in_process = plot_experiment(tmp_path / "default", tmp_path / "in-process")
        assert np.array_equal(matplotlib.image.imread(figure), matplotlib.image.imread(in_process))


def test_a_last_line_without_its_newline_is_kept_a_torn_one_dropped_and_a_damaged_one_refused(tmp_path: Path) -> None:
    """As ``iter_rows`` reads a .jsonl (the rows a resumed run replays)."""
    lines = [json.dumps(row) for row in suite_rows()]
    path = tmp_path / "evaluations.jsonl"
    for text, rows in (("\n".join(lines), 3), ("\n".join(lines) + "\n" + lines[0][:30], 3)):
        path.write_text(text)
        assert rows_table(path).num_rows == rows == len(list(iter_rows(path)))
    path.write_text("\n".join([lines[0], lines[1][:30], lines[2]]) + "\n")
    with pytest.raises(ResultsError, match="line 2 is damaged"):
        rows_table(path)
