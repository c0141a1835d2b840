"""Every figure and table of an experiment in one call: what ``python -m analysis`` runs."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Sequence

import pandas as pd

from analysis.aggregate import INDICATORS, STATISTICS, X_AXES, aggregate, check_choice, indicator_curves, ranks_over_time
from analysis.io import Experiment, Run, scan_experiment
from analysis.plots import (
    check_objective_pair,
    plot_attainment,
    plot_critical_difference,
    plot_evaluations,
    plot_fronts,
    plot_over_time,
    plot_ranks,
    runs_note,
)
from analysis.stats import average_ranks, comparison_table, final_values, write_table


def analyse(
    experiment: Path | str, out: Path | str, x: str = "evaluations", log_x: bool = False, statistic: str = "median",
    objectives: tuple[int, int] = (0, 1), tabular_data: Path | str | None = None, alpha: float = 0.05,
    indicator: str = "hv", where: Sequence[tuple[str, str]] = (), include_incomplete: bool = False,
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
        where: (dotted metadata key, value) pairs a run must match, e.g. ("experiment", "small").
        include_incomplete: rank failed and incomplete runs with the complete ones (marked in tables and
            figures); by default they are drawn dotted in the curves, named under figures, and not ranked.

    Every run folder found is listed in ``runs.csv/.md`` with its state; those left out (unreadable,
    damaged) and those not ranked are also named on stderr, one line each.

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

    scanned = scan_experiment(experiment, where)
    for run in scanned.runs:  # before any work: a bad pair would otherwise stop the analysis half-way
        check_objective_pair(run, objectives)
    runs = [run for run in scanned.runs if include_incomplete or run.complete]
    aside = [run for run in scanned.runs if not (include_incomplete or run.complete)]
    for left in scanned.left_out:
        print(f"left out {left.folder}: {left.reason}", file=sys.stderr)
    for run in aside:
        print(f"not ranked {run.folder}: {run.progress}; --include-incomplete ranks it", file=sys.stderr)
    if not runs:
        raise ValueError(f"no complete run under {experiment}: {len(aside)} failed or incomplete (listed above); "
                         "--include-incomplete analyses them")
    # the reference fronts see every usable run; the statistics only the ranked ones
    every_curve = indicator_curves(scanned.runs, indicator, tabular_data)
    if every_curve.empty:
        raise ValueError("nothing to plot: no run has a finished evaluation")
    curves = every_curve[every_curve["complete"] | include_incomplete]
    aside_curves = every_curve[~every_curve["complete"]] if aside else None
    marked = aside or [run for run in runs if not run.complete]
    heading = "Not ranked (failed or incomplete)" if aside else "Ranked although not complete"
    note = runs_note(marked, heading + (", dotted" if aside else ""))
    if scanned.left_out:  # their task is unknown without metadata: named under the figures of every task
        note += (". " if note else "") + f"Left out ({len(scanned.left_out)} unreadable, see runs.md): " + ", ".join(
            str(left.folder.relative_to(scanned.root)) for left in scanned.left_out[:6])
    written = [plot_over_time(aggregate(curves, x, statistic, log_x=log_x), out / f"{chosen.column}_over_time", x,
                              log_x=log_x, statistic=statistic, set_aside=aside_curves, note=note)]
    if indicator == "hv":
        written.append(plot_over_time(aggregate(curves, x, statistic, value="regret", log_x=log_x),
                                      out / "regret_over_time", x, log_x=log_x, statistic=statistic,
                                      set_aside=aside_curves, note=note))
    for task in sorted({run.task for run in runs}):
        of_task = [run for run in runs if run.task == task]
        task_note = runs_note([run for run in marked if run.task == task], heading)
        written.append(plot_fronts(of_task, out / f"fronts_{task}", objectives, note=task_note))
        written.append(plot_attainment(of_task, out / f"attainment_{task}", objectives, note=task_note))
        for baseline in sorted({run.baseline for run in of_task}):
            first = min((run for run in of_task if run.baseline == baseline), key=lambda run: run.seed)
            written.append(plot_evaluations(first, out / f"evaluations_{task}_{baseline}_seed{first.seed}", objectives))
    table = mark_runs(comparison_table(final_values(curves), alpha), runs, aside)
    written += write_table(table, out / f"final_{chosen.column}",
                           f"Final {chosen.label} per task and baseline ({'higher' if chosen.higher_is_better else 'lower'} "
                           f"is better; front: the reference front of the task: true, best-known+runs (a shipped best-known front "
                           f"joined with the runs) or best-known (the runs alone)); Mann-Whitney U "
                           f"against the best, Holm-adjusted, alpha = {alpha}; incomplete: seeds ranked although "
                           f"failed or incomplete, not_ranked: seeds left out of the statistics (runs.md says why)")
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
    return written + write_table(runs_table(scanned, include_incomplete), out / "runs",
                                 "Every run folder found: its state, whether it is ranked, and why not")


def runs_table(scanned: Experiment, include_incomplete: bool) -> pd.DataFrame:
    """One row per run folder found: folder (below the analysed folder), task, baseline, seed, state
    (complete, failed, incomplete or "left out"), evaluations, budget, ranked, why (how far it got, or why
    it was left out)."""
    rows = [{"folder": str(run.folder.relative_to(scanned.root)), "task": run.task, "baseline": run.baseline,
             "seed": run.seed, "state": run.state, "evaluations": len(run.rows), "budget": run.budget,
             "ranked": include_incomplete or run.complete, "why": "" if run.complete else run.progress}
            for run in scanned.runs]
    rows += [{"folder": str(left.folder.relative_to(scanned.root)), "task": "", "baseline": "", "seed": "",
              "state": "left out", "evaluations": "", "budget": "", "ranked": False, "why": left.reason}
             for left in scanned.left_out]
    return pd.DataFrame(rows)


def mark_runs(table: pd.DataFrame, ranked: list[Run], aside: list[Run]) -> pd.DataFrame:
    """``table`` (per task and baseline) with ``incomplete``: how many of its seeds are ranked although not
    complete, and ``not_ranked``: how many seeds of that task and baseline were left out of it."""
    def count(runs: list[Run]) -> list[int]:
        return [sum(run.task == task and run.baseline == baseline for run in runs)
                for task, baseline in zip(table["task"], table["baseline"])]

    return table.assign(incomplete=count([run for run in ranked if not run.complete]), not_ranked=count(aside))
