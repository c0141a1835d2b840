from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from scipy import stats

from analysis.stats import average_ranks, cliques, comparison_table, critical_difference, holm, to_markdown, write_table


def _final(values: dict[tuple[str, str], list[float]], indicator: str = "hv") -> pd.DataFrame:
    return pd.DataFrame([
        {"task": task, "baseline": baseline, "seed": seed, "indicator": indicator, "front": "true", "value": v,
         **({"regret": 1.0 - v} if indicator == "hv" else {})}
        for (task, baseline), vs in values.items() for seed, v in enumerate(vs)
    ])


def test_holm_against_the_step_down_by_hand() -> None:
    # sorted 0.01, 0.03, 0.04 -> 3*0.01, max(., 2*0.03), max(., 1*0.04)
    np.testing.assert_allclose(holm(np.array([0.01, 0.04, 0.03, np.nan]))[:3], [0.03, 0.06, 0.06])
    assert np.isnan(holm(np.array([np.nan]))).all()


def test_mann_whitney_against_the_exact_permutation_p_value() -> None:
    # completely separated samples of 4 and 4: only 2 of C(8, 4) = 70 splits are as extreme (two-sided)
    final = _final({("t", "good"): [0.9, 0.8, 0.85, 0.95], ("t", "bad"): [0.1, 0.2, 0.3, 0.15]})
    table = comparison_table(final).set_index("baseline")
    assert table.loc["good", "best"] and not table.loc["bad", "best"]
    assert table.loc["bad", "p_value"] == pytest.approx(2 / math.comb(8, 4))
    assert table.loc["bad", "worse_than_best"]  # 0.029 < 0.05
    assert table.loc["good", "median"] == pytest.approx(0.875) and table.loc["bad", "rank"] == 2.0
    assert table.loc["bad", "median_regret"] == pytest.approx(1 - 0.175)
    assert np.isnan(table.loc["good", "p_value"]) and not table.loc["good", "worse_than_best"]
    with pytest.raises(ValueError, match="alpha must lie in"):
        comparison_table(final, alpha=5)


def test_for_igd_plus_the_lowest_median_is_best() -> None:
    final = _final({("t", "near"): [0.1, 0.2, 0.15], ("t", "far"): [0.9, 0.8, np.inf]}, indicator="igdplus")
    table = comparison_table(final).set_index("baseline")
    assert table.loc["near", "best"] and table.loc["far", "rank"] == 2.0 and "median_regret" not in table
    assert table.loc["far", "q75"] == np.inf and table.loc["far", "q25"] == pytest.approx(0.85)
    assert (table["front"] == "true").all() and (table["indicator"] == "igdplus").all()


def test_critical_difference_matches_demsar_table() -> None:
    # Demšar (2006), Table 5(a): q_0.05 = 2.343 for k = 3, 2.569 for k = 4
    assert critical_difference(3, 10) == pytest.approx(2.343 * math.sqrt(3 * 4 / 60), rel=1e-3)
    assert critical_difference(4, 20) == pytest.approx(2.569 * math.sqrt(4 * 5 / 120), rel=1e-3)
    with pytest.raises(ValueError, match=">= 2 baselines"):
        critical_difference(1, 3)


def test_average_ranks_and_friedman() -> None:
    values = {}
    for task, order in {"t1": "abc", "t2": "abc", "t3": "bac", "t4": "abc"}.items():
        for position, baseline in enumerate(order):
            values[(task, baseline)] = [1.0 - 0.1 * position] * 3
    ranks, summary = average_ranks(comparison_table(_final(values)))
    assert ranks.set_index("baseline")["average_rank"].to_dict() == {"a": 1.25, "b": 1.75, "c": 3.0}
    assert summary["tasks"] == 4 and summary["baselines"] == 3
    # Friedman chi-square by hand: 12N/(k(k+1)) * (sum R^2 - k(k+1)^2/4) with N=4, k=3
    chi2 = 12 * 4 / 12 * (1.25 ** 2 + 1.75 ** 2 + 3.0 ** 2 - 3 * 16 / 4)
    assert summary["friedman_p"] == pytest.approx(math.exp(-chi2 / 2))  # chi-square, 2 dof: survival e^(-x/2)


def test_cliques_of_a_hand_worked_example() -> None:
    # per-task ranks of four baselines on ten tasks (1 = best), chosen so that the average ranks are
    # a 1.3, b 2.2, c 2.7, d 3.8
    per_task = [
        *[{"a": 1, "b": 2, "c": 3, "d": 4}] * 2,
        *[{"a": 1, "b": 3, "c": 2, "d": 4}] * 5,
        {"a": 2, "b": 1, "c": 3, "d": 4},
        *[{"a": 2, "b": 1, "c": 4, "d": 3}] * 2,
    ]
    values = {(f"t{t}", b): [1.0 - 0.1 * rank] * 3 for t, ranks in enumerate(per_task) for b, rank in ranks.items()}
    ranks, summary = average_ranks(comparison_table(_final(values)))
    assert ranks.set_index("baseline")["average_rank"].to_dict() == pytest.approx({"a": 1.3, "b": 2.2, "c": 2.7, "d": 3.8})
    # Nemenyi by hand: CD = q_0.05(4, inf) / sqrt(2) * sqrt(k (k + 1) / (6 N)) = 2.569 * sqrt(20 / 60) = 1.483
    cd = stats.studentized_range.ppf(0.95, 4, np.inf) / math.sqrt(2) * math.sqrt(4 * 5 / 60)
    assert summary["critical_difference"] == pytest.approx(cd) and cd == pytest.approx(1.483, abs=1e-3)
    # differences: a-b 0.9, a-c 1.4, b-c 0.5, c-d 1.1 are below the CD; a-d 2.5 and b-d 1.6 exceed it
    assert summary["cliques"] == [["a", "b", "c"], ["c", "d"]]
    assert ranks.set_index("baseline")["clique"].to_dict() == {"a": "a", "b": "a", "c": "ab", "d": "b"}
    # the pairwise p-values are the studentized range survival at sqrt(2) |R_i - R_j| / sqrt(k (k + 1) / (6 N))
    p_values = summary["p_values"]
    assert p_values.loc["a", "d"] == pytest.approx(stats.studentized_range.sf(math.sqrt(2) * 2.5 / math.sqrt(20 / 60), 4, np.inf))
    assert p_values.loc["b", "c"] == pytest.approx(stats.studentized_range.sf(math.sqrt(2) * 0.5 / math.sqrt(20 / 60), 4, np.inf))


def test_cliques_at_the_edges() -> None:
    ranks = pd.Series({"x": 1.0, "y": 2.0, "z": 3.0})
    significant = pd.DataFrame(0.001, index=ranks.index, columns=ranks.index)
    assert cliques(ranks, significant) == [["x"], ["y"], ["z"]]  # every baseline alone
    assert cliques(ranks, significant + 0.5) == [["x", "y", "z"]]  # none tells any apart


def test_markdown_and_csv(tmp_path: Path) -> None:
    frame = pd.DataFrame({"baseline": ["a"], "median": [0.123456], "p": [np.nan], "best": [True]})
    assert to_markdown(frame) == "| baseline | median | p | best |\n|---|---|---|---|\n| a | 0.1235 |  | yes |\n"
    csv, markdown = write_table(frame, tmp_path / "table", "Title")
    assert pd.read_csv(csv)["median"].iloc[0] == pytest.approx(0.123456)
    assert markdown.read_text().startswith("Title\n\n| baseline")
