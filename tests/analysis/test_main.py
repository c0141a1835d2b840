from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd
import pytest

from analysis.__main__ import main


@pytest.mark.slow
def test_cli_writes_every_figure_and_table(experiment: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                          layout: dict) -> None:
    assert main([str(experiment), "--out", str(tmp_path), "--x", "simulated", "--log-x", "--statistic", "mean"]) == 0
    listed = capsys.readouterr().out.split()
    expected = {"hypervolume_over_time.png", "regret_over_time.png", "average_rank_over_time.png",
                "critical_difference.png", "final_hypervolume.csv", "final_hypervolume.md", "average_rank.csv",
                "average_rank.md", "runs.csv", "runs.md"}
    for task in layout["tasks"]:
        expected |= {f"fronts_{task}.png", f"attainment_{task}.png"}
        expected |= {f"evaluations_{task}_{baseline}_seed0.png" for baseline in layout["baselines"]}
    assert {Path(p).name for p in listed} == expected
    for name in expected:
        assert (tmp_path / name).stat().st_size > 0
        if name.endswith(".png"):
            assert (tmp_path / name).with_suffix(".pdf").exists()
    table = pd.read_csv(tmp_path / "final_hypervolume.csv")
    assert len(table) == len(layout["tasks"]) * len(layout["baselines"])
    assert (table.groupby("task")["best"].sum() == 1).all()


@pytest.mark.parametrize("arguments, message", [
    (["{missing}"], "does not exist"),
    (["{experiment}", "--x", "wall"], "ran on a simulated clock"),
    (["{experiment}", "--objectives", "0,7"], "must be two different indices"),
    (["{experiment}", "--alpha", "1.5"], "alpha must lie in (0, 1), got 1.5"),
])
def test_bad_input_gives_one_error_line(arguments: list[str], message: str, experiment: Path, tmp_path: Path,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    filled = [a.format(missing=tmp_path / "missing", experiment=experiment) for a in arguments]
    assert main(filled + ["--out", str(tmp_path / "out")]) == 2
    error = capsys.readouterr().err
    assert error.count("\n") == 1 and error.startswith("error: ") and message in error
    assert not (tmp_path / "out").exists()


def test_a_bad_option_is_one_error_line(experiment: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main([str(experiment), "--x", "bogus"])
    err = capsys.readouterr().err
    assert exit_info.value.code == 2
    assert "argument --x: invalid choice: 'bogus'" in err and len(err.strip().splitlines()) == 1


def test_a_missing_tabular_data_folder_is_an_error_not_a_silent_loss_of_regret(
        experiment: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main([str(experiment), "--out", str(tmp_path), "--tabular-data", str(tmp_path / "nowhere")]) == 2
    assert "does not exist" in capsys.readouterr().err


def test_baselines_that_ran_on_different_tasks_are_analysed_without_ranks(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from suite.lifecycle import execute
    from suite.spec import Budget, RunSpec

    # three baselines, no task with all of them: the ranks have nothing to compare
    for task, baseline in [("fcnet-naval", "random_search"), ("fcnet-naval", "nsga2"),
                           ("nb201-cifar10", "random_search"), ("nb201-cifar10", "motpe")]:
        execute(RunSpec(baseline, task, 0, Budget(evaluations=8), experiment="apart"), tmp_path / "results")
    assert main([str(tmp_path / "results" / "apart"), "--out", str(tmp_path / "out")]) == 0
    written = {Path(p).name for p in capsys.readouterr().out.split()}
    assert "final_hypervolume.csv" in written and "average_rank.csv" not in written


def _fail_after(folder: Path, evaluations: int) -> None:
    """Make a complete run of the suite a run that failed after ``evaluations``, as the suite leaves it."""
    rows = pd.read_parquet(folder / "evaluations.parquet").head(evaluations)
    (folder / "evaluations.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows.to_dict("records")))
    (folder / "evaluations.parquet").unlink()
    metadata = json.loads((folder / "metadata.json").read_text())
    for key in ("finished", "wall_s", "n_evaluations"):
        metadata.pop(key, None)
    (folder / "metadata.json").write_text(json.dumps({**metadata, "status": "running", "error": "Traceback: boom"}))


@pytest.fixture
def damaged(small_results: Path, tmp_path: Path) -> Path:
    """Experiment "one" with nsga2 seed 2 failed after 3 evaluations and random_search seed 1 without metadata."""
    shutil.copytree(small_results / "one", tmp_path / "one")
    _fail_after(tmp_path / "one" / "fcnet-naval" / "nsga2" / "2", 3)
    (tmp_path / "one" / "fcnet-naval" / "random_search" / "1" / "metadata.json").unlink()
    return tmp_path / "one"


def test_runs_left_out_or_not_ranked_are_named_and_marked(damaged: Path, tmp_path: Path,
                                                          capsys: pytest.CaptureFixture[str]) -> None:
    assert main([str(damaged), "--out", str(tmp_path / "out")]) == 0
    err = capsys.readouterr().err.splitlines()
    assert err == [
        f"left out {damaged / 'fcnet-naval' / 'random_search' / '1'}: no metadata.json, so nothing says which run its "
        "rows belong to; move the folder away (or delete it) and run again; --fresh starts every run of the suite over",
        f"not ranked {damaged / 'fcnet-naval' / 'nsga2' / '2'}: failed after 3 evaluations (budget 8 evaluations); "
        "--include-incomplete ranks it",
    ]
    runs = pd.read_csv(tmp_path / "out" / "runs.csv", dtype={"seed": str})
    states = dict(zip(runs["folder"], zip(runs["state"], runs["ranked"])))
    assert len(runs) == 6 and states["fcnet-naval/nsga2/2"] == ("failed", False)
    assert states["fcnet-naval/random_search/1"] == ("left out", False)
    assert states["fcnet-naval/nsga2/0"] == ("complete", True)
    table = pd.read_csv(tmp_path / "out" / "final_hypervolume.csv").set_index("baseline")
    assert table.loc["nsga2", ["seeds", "incomplete", "not_ranked"]].tolist() == [2, 0, 1]
    assert table.loc["random_search", ["seeds", "incomplete", "not_ranked"]].tolist() == [2, 0, 0]


def test_incomplete_runs_are_ranked_when_asked_and_marked(damaged: Path, tmp_path: Path) -> None:
    assert main([str(damaged), "--out", str(tmp_path / "out"), "--include-incomplete"]) == 0
    table = pd.read_csv(tmp_path / "out" / "final_hypervolume.csv").set_index("baseline")
    assert table.loc["nsga2", ["seeds", "incomplete", "not_ranked"]].tolist() == [3, 1, 0]
    runs = pd.read_csv(tmp_path / "out" / "runs.csv").set_index("folder")
    assert runs.loc["fcnet-naval/nsga2/2", "ranked"] and not runs.loc["fcnet-naval/random_search/1", "ranked"]


@pytest.mark.parametrize("arguments, message", [
    (["{root}"], "runs of 3 experiments: 'one' in "),
    (["{root}/one", "--where", "budget"], "argument --where: expected KEY=VALUE such as budget.evaluations=50"),
    (["{root}/one", "--where", "n_workers=2"], "--where n_workers=2: no run matches; its values are 1"),
])
def test_a_mixture_or_a_bad_filter_is_one_error_line(arguments: list[str], message: str, small_results: Path,
                                                     tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    try:
        code = main([a.format(root=small_results) for a in arguments] + ["--out", str(tmp_path / "out")])
    except SystemExit as exit_info:  # argparse's own errors
        code = exit_info.code
    error = capsys.readouterr().err
    assert code == 2 and error.count("\n") == 1 and message in error
    assert not (tmp_path / "out").exists()


def test_a_bad_argument_answers_without_the_figure_libraries() -> None:
    import subprocess
    import sys

    code = ("import sys\nfrom analysis.__main__ import main\n"
            "try:\n    code = main(['--bogus'])\nexcept SystemExit as exit:\n    code = exit.code\n"
            "heavy = sorted(m for m in ('matplotlib', 'seaborn', 'scikit_posthocs') if m in sys.modules)\n"
            "print(code, heavy)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                          timeout=300)
    assert done.stdout.strip() == "2 []", done.stdout + done.stderr
