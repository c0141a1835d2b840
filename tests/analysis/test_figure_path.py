"""The suite's figure path (``analysis.plots.serve``) draws without pandas or pyplot, and draws what the analysis
drew before: the same numbers, the same pixels and the same PDF as the code of commit eb72444 (pandas frames,
pyplot), whose output is kept in ``data/figure_path/``.

That reference is rewritten by this module run as a script, with whichever checkout's ``analysis`` comes first
on ``sys.path``, from the runs of ``conftest.experiment`` (deterministic: a simulated clock) with one of them cut
to a partial run (``make_partial``)::

    cd <checkout> && PYTHONPATH=. python <this checkout>/tests/analysis/test_figure_path.py <folder>
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import matplotlib.image
import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[2]
DATA = Path(__file__).parent / "data" / "figure_path"
#: the run cut to a partial run, and how many of its evaluations it keeps
PARTIAL = ("fcnet-naval", "nsga2", 1)
KEEP = 15
#: the summaries kept: name -> (keyword arguments of ``aggregate``, whether the partial run is in the curves)
SUMMARIES: dict[str, tuple[dict[str, Any], bool]] = {
    "figure": ({"x": "evaluations"}, False),
    "mean_regret": ({"x": "evaluations", "statistic": "mean", "value": "regret"}, False),
    "simulated_log_with_partial": ({"x": "simulated", "log_x": True, "points": 40}, True),
}
COLUMNS = ("task", "baseline", "x", "center", "lower", "upper", "n_seeds")


def make_partial(experiment: Path, into: Path) -> Path:
    """A copy of ``experiment`` in which run ``PARTIAL`` holds its first ``KEEP`` rows in a .jsonl, still running."""
    from suite import results_format

    copy = into / experiment.name
    shutil.copytree(experiment, copy)
    folder = copy.joinpath(*map(str, PARTIAL))
    rows = results_format.read_run(folder)[1].head(KEEP)
    with (folder / results_format.ROWS).open("w") as file:
        for record in rows.to_dict("records"):
            # a missing value is NaN in the frame, null in the file
            file.write(results_format.to_json({k: None if isinstance(v, float) and v != v else v
                                               for k, v in record.items()}) + "\n")
    (folder / results_format.PARQUET).unlink()
    metadata = json.loads((folder / results_format.METADATA).read_text())
    metadata.update(status="running")
    metadata.pop("n_evaluations", None)
    (folder / results_format.METADATA).write_text(json.dumps(metadata))
    return copy


def numbers(experiment: Path) -> dict[str, Any]:
    """What the analysis computes from ``experiment`` (with its partial run): every run's curve, and the
    ``SUMMARIES``, each column as a list."""
    from analysis import aggregate, indicator_curves, load_experiment

    curves = indicator_curves(load_experiment(experiment), "hv")
    result: dict[str, Any] = {"curves": {
        f"{task}/{baseline}/{seed}": {"value": run["value"].tolist(), "regret": run["regret"].tolist()}
        for (task, baseline, seed), run in curves.groupby(["task", "baseline", "seed"], sort=True)}}
    for name, (options, with_partial) in SUMMARIES.items():
        summary = aggregate(curves if with_partial else curves[curves["complete"]], **options)
        result[name] = {column: summary[column].tolist() for column in COLUMNS}
    return result


def write_reference(out: Path) -> None:
    """Make the runs, cut one, and write the numbers and the figure of the analysis that is imported."""
    from analysis import plot_experiment
    from conftest import BASELINES, EVALUATIONS, SEEDS, TASKS
    from suite.lifecycle import execute
    from suite.spec import Budget, RunSpec

    for task in TASKS:
        for baseline in BASELINES:
            for seed in SEEDS:
                execute(RunSpec(baseline, task, seed, Budget(evaluations=EVALUATIONS), n_workers=2, experiment="small"),
                        out / "runs")
    experiment = make_partial(out / "runs" / "small", out / "partial")
    (out / "numbers.json").write_text(json.dumps(numbers(experiment)))
    png = plot_experiment(experiment, out / "figure")
    shutil.copy(png, out / png.name)
    shutil.copy(png.with_suffix(".pdf"), out / png.with_suffix(".pdf").name)


if __name__ == "__main__":
    write_reference(Path(sys.argv[1]))


def _same(mine: dict[str, Any], reference: dict[str, Any]) -> None:
    assert mine.keys() == reference.keys()
    for key, expected in reference.items():
        if isinstance(expected, dict):
            _same(mine[key], expected)
        elif expected and isinstance(expected[0], str):
            assert mine[key] == expected, key
        else:  # to 1e-12, NaN where the reference has NaN: the reference's last bit depends on the CPU it was
            # written on (on an AVX-512 machine one hypervolume came out 1 ulp lower), a change of code is far larger
            np.testing.assert_allclose(np.asarray(mine[key], dtype=float), np.asarray(expected, dtype=float),
                                       rtol=1e-12, atol=0, equal_nan=True, err_msg=key)


@pytest.fixture(scope="module")
def partial(experiment: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_partial(experiment, tmp_path_factory.mktemp("partial"))


def test_the_tables_hold_the_numbers_of_the_code_before(partial: Path) -> None:
    _same(numbers(partial), json.loads((DATA / "numbers.json").read_text()))


def test_the_arrays_of_the_figure_path_hold_the_same_numbers(partial: Path) -> None:
    from analysis import load_experiment
    from analysis.aggregate import run_curves, summaries

    curves = run_curves(load_experiment(partial), "hv")
    reference = json.loads((DATA / "numbers.json").read_text())
    _same({f"{c.run.task}/{c.run.baseline}/{c.run.seed}": {"value": c.values.tolist(), "regret": c.regret.tolist()}
           for c in curves}, reference["curves"])
    for name, (options, with_partial) in SUMMARIES.items():
        lines = summaries([c for c in curves if with_partial or c.run.complete], **options)
        _same({column: [v for line in lines for v in (
            [getattr(line, column)] * len(line.x) if column in ("task", "baseline") else getattr(line, column).tolist())]
            for column in COLUMNS}, reference[name])


@pytest.mark.slow
def test_the_figure_process_draws_the_pixels_of_the_code_before_without_pandas_or_pyplot(partial: Path,
                                                                                          tmp_path: Path) -> None:
    # in a fresh interpreter, as the suite's figure process: what it imports is what it costs
    code = ("import json, sys; from pathlib import Path; from analysis.plots import plot_experiment; "
            f"png = plot_experiment(Path({str(partial)!r}), Path({str(tmp_path)!r})); "
            "print(json.dumps([str(png), sorted(m for m in ('pandas', 'matplotlib.pyplot') if m in sys.modules)]))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True,
                          timeout=300)
    png, imported = json.loads(done.stdout.splitlines()[-1])
    assert imported == []
    ours, theirs = matplotlib.image.imread(png), matplotlib.image.imread(DATA / "hypervolume_over_time.png")
    assert ours.shape == theirs.shape and ours.shape[1] > 800  # two panels, the legend right of them
    assert np.array_equal(ours, theirs)
    # the PDF: the same bytes but for the date it was made
    dated = re.compile(rb"/CreationDate \(D:\d+Z?\)")
    pdf, reference = (dated.subn(b"", path.read_bytes()) for path in (Path(png).with_suffix(".pdf"),
                                                                       DATA / "hypervolume_over_time.pdf"))
    assert pdf[0] == reference[0]


@pytest.mark.parametrize("shape", [(1, 7), (3, 50), (4, 50), (9, 200)])
def test_the_percentiles_and_median_of_matrices_without_nan_are_numpys_nan_versions(shape: tuple[int, int]) -> None:
    from analysis.aggregate import percentiles, summarise

    rng = np.random.default_rng(shape[1])
    plain, ties = rng.random(shape), rng.integers(0, 3, shape).astype(float)
    for matrix in (plain, ties, np.where(rng.random(shape) < 0.3, np.inf, plain)):
        np.testing.assert_array_equal(summarise(matrix, "median")["center"], np.nanmedian(matrix, axis=0))
    for matrix in (plain, ties):
        np.testing.assert_array_equal(percentiles(matrix, [25, 75], axis=0), np.nanpercentile(matrix, [25, 75], axis=0))
