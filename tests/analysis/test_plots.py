from __future__ import annotations

import json
from pathlib import Path

import matplotlib.image
import numpy as np
import pytest

from analysis import plot_experiment
from analysis.plots import attainment_surfaces


def test_plot_experiment_writes_png_and_pdf(experiment: Path, tmp_path: Path) -> None:
    png = plot_experiment(experiment, tmp_path / "figures")
    assert png == tmp_path / "figures" / "hypervolume_over_time.png"
    assert png.with_suffix(".pdf").stat().st_size > 1000
    height, width, _ = matplotlib.image.imread(png).shape
    assert width > 800 and height > 300  # two task panels side by side


def test_plot_experiment_refuses_a_missing_folder(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="does not exist"):
        plot_experiment(tmp_path / "nope", tmp_path)


def test_plot_experiment_refuses_runs_without_evaluations(experiment: Path, tmp_path: Path) -> None:
    folder = tmp_path / "empty" / "fcnet-naval" / "random_search" / "0"
    folder.mkdir(parents=True)
    metadata = json.loads((experiment / "fcnet-naval" / "random_search" / "0" / "metadata.json").read_text())
    (folder / "metadata.json").write_text(json.dumps({**metadata, "status": "running"}))  # nothing finished yet
    with pytest.raises(ValueError, match="no run has a finished evaluation"):
        plot_experiment(tmp_path / "empty", tmp_path / "figures")


def _minimal(points: np.ndarray) -> np.ndarray:
    keep = [p for p in points if not any(np.all(q <= p) and np.any(q < p) for q in points)]
    return np.unique(np.array(keep), axis=0)


def test_attainment_surfaces_count_runs_that_finished_nothing() -> None:
    rng = np.random.default_rng(3)
    a, b = rng.uniform(0, 1, (6, 2)), rng.uniform(0, 1, (5, 2))
    failed = np.full((3, 2), np.nan)
    surfaces = attainment_surfaces([a, b, failed, np.empty((0, 2))], (25, 50, 100))
    # 25 % of 4 runs = 1 run: the front of the union
    np.testing.assert_allclose(np.unique(surfaces[25], axis=0), _minimal(np.vstack([a, b])))
    # 50 % of 4 = 2 runs = both finished ones: minimal points of the intersection of what each attains,
    # i.e. of the componentwise maxima of every pair
    both = np.array([np.maximum(p, q) for p in a for q in b])
    np.testing.assert_allclose(np.unique(surfaces[50], axis=0), _minimal(both))
    assert 100 not in surfaces  # no point is attained by all four runs
    with pytest.raises(ValueError, match="percentiles must lie in"):
        attainment_surfaces([a], (0,))


def test_the_critical_difference_diagram_draws_the_cliques_of_the_rank_table(tmp_path: Path) -> None:
    import matplotlib.pyplot as plt
    import pandas as pd
    import scikit_posthocs

    from analysis.plots import plot_critical_difference
    from analysis.stats import average_ranks, comparison_table

    # five baselines on eight tasks, each task's order a shuffle of a fixed one: several overlapping cliques
    rng = np.random.default_rng(4)
    rows = []
    for task in range(8):
        order = np.argsort(np.arange(5) + rng.normal(0, 1.2, 5))
        rows += [{"task": f"t{task}", "baseline": "abcde"[b], "seed": 0, "indicator": "igdplus", "front": "best-known",
                  "value": float(position)} for position, b in enumerate(order)]
    ranks, summary = average_ranks(comparison_table(pd.DataFrame(rows)))
    assert summary["cliques"] == [["a", "b", "c"], ["b", "c", "d", "e"]] and ranks["average_rank"].is_unique
    figure, ax = plt.subplots()
    drawn = scikit_posthocs.critical_difference_diagram(ranks.set_index("baseline")["average_rank"], summary["p_values"],
                                                        alpha=summary["alpha"], ax=ax)
    plt.close(figure)
    by_rank = dict(zip(ranks["average_rank"], ranks["baseline"]))
    bars = sorted(sorted(by_rank[x] for x in line.get_xdata()) for (line,) in drawn["crossbars"])
    assert bars == sorted(group for group in summary["cliques"] if len(group) > 1)
    assert plot_critical_difference(ranks, summary, tmp_path / "cd").with_suffix(".pdf").exists()
