"""Every figure and table of an experiment in one call: what ``python -m analysis`` runs."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from analysis.aggregate import STATISTICS, X_AXES, aggregate, check_choice, hypervolume_curves, ranks_over_time
from analysis.io import load_experiment
from analysis.plots import (
    check_objective_pair,
    plot_attainment,
    plot_critical_difference,
    plot_evaluations,
    plot_fronts,
    plot_over_time,
    plot_ranks,
)
from analysis.stats import average_ranks, comparison_table, final_values, write_table


def analyse(
    experiment: Path | str, out: Path | str, x: str = "evaluations", log_x: bool = False, statistic: str = "median",
    objectives: tuple[int, int] = (0, 1), tabular_data: Path | str | None = None, alpha: float = 0.05,
) -> list[Path]:
    """Write the figures (PNG + PDF) and tables (CSV + Markdown) of the runs under ``experiment`` into ``out``.

    Args:
        experiment: a results folder (``results/<experiment>``).
        out: where the files go (created).
        x: "evaluations", "simulated" or "wall" (time on the runs' clock).
        log_x: a log x axis for the curves.
        statistic: "median" (IQR band) or "mean" (standard-error band).
        objectives: the pair of objective indices drawn in fronts, attainment surfaces and evaluations.
        tabular_data: folder of shipped true fronts (default: the repository's ``tabular_data/``).
        alpha: significance level of the tests and the critical difference.

    Returns:
        The written files: PNG of each figure, CSV and Markdown of each table.
    """
    check_choice("x", x, X_AXES)
    check_choice("statistic", statistic, STATISTICS)
    if not 0 < alpha < 1:
        raise ValueError(f"alpha must lie in (0, 1), got {alpha}")
    out = Path(out)
    runs = load_experiment(experiment)
    for run in runs:  # before any work: a bad pair would otherwise stop the analysis half-way
        check_objective_pair(run, objectives)
    curves = hypervolume_curves(runs, tabular_data)
    written = [plot_over_time(aggregate(curves, x, statistic, log_x=log_x), out / "hypervolume_over_time", x,
                              log_x=log_x, statistic=statistic)]
    with_front = curves[np.isfinite(curves["true_hypervolume"])]
    if len(with_front):
        written.append(plot_over_time(aggregate(with_front, x, statistic, value="regret", log_x=log_x),
                                      out / "regret_over_time", x, value="regret", log_x=log_x, statistic=statistic))
    for task in sorted({run.task for run in runs}):
        of_task = [run for run in runs if run.task == task]
        written.append(plot_fronts(of_task, out / f"fronts_{task}", objectives))
        written.append(plot_attainment(of_task, out / f"attainment_{task}", objectives))
        for baseline in sorted({run.baseline for run in of_task}):
            first = min((run for run in of_task if run.baseline == baseline), key=lambda run: run.seed)
            written.append(plot_evaluations(first, out / f"evaluations_{task}_{baseline}_seed{first.seed}", objectives))
    table = comparison_table(final_values(curves), alpha)
    written += write_table(table, out / "final_hypervolume",
                           f"Final hypervolume per task and baseline; Mann-Whitney U against the best, Holm-adjusted, "
                           f"alpha = {alpha}")
    n_baselines = table["baseline"].nunique()
    # ranks compare baselines on the tasks where every one of them ran
    if n_baselines >= 2 and (table.groupby("task")["baseline"].nunique() == n_baselines).any():
        ranks, summary = average_ranks(table, alpha)
        written += write_table(ranks, out / "average_rank",
                               f"Average rank over {summary['tasks']} tasks; Friedman p = {summary['friedman_p']:.4g}, "
                               f"Nemenyi critical difference = {summary['critical_difference']:.3f} (alpha = {alpha})")
        written.append(plot_critical_difference(ranks, summary["critical_difference"], out / "critical_difference"))
        written.append(plot_ranks(ranks_over_time(curves, x, statistic, log_x=log_x), out / "average_rank_over_time",
                                  log_x=log_x))
    return written
