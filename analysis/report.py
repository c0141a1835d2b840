"""Every figure and table of an experiment in one call: what ``python -m analysis`` runs."""

from __future__ import annotations

from pathlib import Path

from analysis.aggregate import INDICATORS, STATISTICS, X_AXES, aggregate, check_choice, indicator_curves, ranks_over_time
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
    indicator: str = "hv",
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
        indicator: "hv" (hypervolume, with its regret), "igdplus" (IGD+) or "epsilon" (additive epsilon);
            the last two, and the regret, against each task's true front, else its best-known front.

    Returns:
        The written files: PNG of each figure, CSV and Markdown of each table. Files of the hypervolume
        keep their plain names (``average_rank``); those of another indicator end in its name
        (``average_rank_igd_plus``).
    """
    check_choice("x", x, X_AXES)
    check_choice("statistic", statistic, STATISTICS)
    check_choice("indicator", indicator, tuple(INDICATORS))
    if not 0 < alpha < 1:
        raise ValueError(f"alpha must lie in (0, 1), got {alpha}")
    out = Path(out)
    chosen = INDICATORS[indicator]

    def stem(name: str) -> Path:
        return out / (name if indicator == "hv" else f"{name}_{chosen.column}")

    runs = load_experiment(experiment)
    for run in runs:  # before any work: a bad pair would otherwise stop the analysis half-way
        check_objective_pair(run, objectives)
    curves = indicator_curves(runs, indicator, tabular_data)
    written = [plot_over_time(aggregate(curves, x, statistic, log_x=log_x), out / f"{chosen.column}_over_time", x,
                              log_x=log_x, statistic=statistic)]
    if indicator == "hv":
        written.append(plot_over_time(aggregate(curves, x, statistic, value="regret", log_x=log_x),
                                      out / "regret_over_time", x, log_x=log_x, statistic=statistic))
    for task in sorted({run.task for run in runs}):
        of_task = [run for run in runs if run.task == task]
        written.append(plot_fronts(of_task, out / f"fronts_{task}", objectives))
        written.append(plot_attainment(of_task, out / f"attainment_{task}", objectives))
        for baseline in sorted({run.baseline for run in of_task}):
            first = min((run for run in of_task if run.baseline == baseline), key=lambda run: run.seed)
            written.append(plot_evaluations(first, out / f"evaluations_{task}_{baseline}_seed{first.seed}", objectives))
    table = comparison_table(final_values(curves), alpha)
    written += write_table(table, out / f"final_{chosen.column}",
                           f"Final {chosen.label} per task and baseline ({'higher' if chosen.higher_is_better else 'lower'} "
                           f"is better; front: the reference front of the task, true or best-known); Mann-Whitney U "
                           f"against the best, Holm-adjusted, alpha = {alpha}")
    n_baselines = table["baseline"].nunique()
    # ranks compare baselines on the tasks where every one of them ran
    if n_baselines >= 2 and (table.groupby("task")["baseline"].nunique() == n_baselines).any():
        ranks, summary = average_ranks(table, alpha)
        written += write_table(ranks, stem("average_rank"),
                               f"Average rank of the final {chosen.label} over {summary['tasks']} tasks; Friedman p = "
                               f"{summary['friedman_p']:.4g}, Nemenyi critical difference = "
                               f"{summary['critical_difference']:.3f} (alpha = {alpha}); baselines sharing a clique "
                               f"letter are not significantly different")
        written.append(plot_critical_difference(ranks, summary, stem("critical_difference")))
        written.append(plot_ranks(ranks_over_time(curves, x, statistic, log_x=log_x), stem("average_rank_over_time"),
                                  log_x=log_x))
    return written
