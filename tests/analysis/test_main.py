from __future__ import annotations

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
                "average_rank.md"}
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
