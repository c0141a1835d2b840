"""The indicator choice of ``python -m analysis`` and ``analysis.report.analyse``."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from analysis.__main__ import build_parser, main
from analysis.report import analyse


@pytest.mark.slow
def test_igd_plus_writes_its_own_files_with_lowest_median_best(
        experiment: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], layout: dict) -> None:
    assert main([str(experiment), "--out", str(tmp_path), "--indicator", "igdplus"]) == 0
    written = {Path(p).name for p in capsys.readouterr().out.split()}
    expected = {"igd_plus_over_time.png", "final_igd_plus.csv", "final_igd_plus.md", "average_rank_igd_plus.csv",
                "average_rank_igd_plus.md", "critical_difference_igd_plus.png", "average_rank_over_time_igd_plus.png"}
    assert expected <= written and "regret_over_time.png" not in written and "final_hypervolume.csv" not in written
    table = pd.read_csv(tmp_path / "final_igd_plus.csv", dtype={"front": str})  # not the boolean true
    assert (table["front"] == "true").all() and (table["indicator"] == "igdplus").all()
    for _, of_task in table.groupby("task"):
        assert of_task.loc[of_task["best"], "median"].iloc[0] == of_task["median"].min()
    ranks = pd.read_csv(tmp_path / "average_rank_igd_plus.csv")
    assert sorted(ranks["baseline"]) == sorted(layout["baselines"]) and ranks["clique"].str.len().min() >= 1
    assert "IGD+" in (tmp_path / "final_igd_plus.md").read_text().splitlines()[0]


@pytest.mark.slow
def test_without_shipped_fronts_epsilon_is_measured_to_the_best_known_front(experiment: Path, tmp_path: Path) -> None:
    empty = tmp_path / "no_fronts"
    empty.mkdir()
    analyse(experiment, tmp_path / "out", indicator="epsilon", tabular_data=empty)
    table = pd.read_csv(tmp_path / "out" / "final_epsilon_additive.csv", dtype={"front": str})
    assert (table["front"] == "best-known").all()
    # the best-known front is the union of these very runs: nobody is better than it
    assert (table["median"] >= 0).all() and np.isfinite(table["median"]).all()


def test_an_unknown_indicator_is_one_error_line(experiment: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main([str(experiment), "--indicator", "gd"])
    err = capsys.readouterr().err
    assert exit_info.value.code == 2 and len(err.strip().splitlines()) == 1
    assert "argument --indicator: invalid choice: 'gd'" in err
    with pytest.raises(ValueError, match="indicator='gd' is not one of hv, igdplus, epsilon"):
        analyse(experiment, experiment / "unused", indicator="gd")


def test_the_parser_can_be_reused_under_another_name() -> None:
    cli = build_parser("bag-of-baselines analyse")
    assert cli.prog == "bag-of-baselines analyse"
    assert cli.parse_args(["results/x"]).indicator == "hv"
