"""Figures (seaborn's theme, matplotlib's object API), each written as PNG and PDF.

Every function takes tables or runs and a path stem, writes ``<stem>.png`` and ``<stem>.pdf`` and returns
the PNG path, so a notebook can show it and a CLI can list it. Figures are ``matplotlib.figure.Figure``
objects, not pyplot's: they are files, need no display (none is available on a cluster), and are freed with
their last reference instead of being kept by pyplot until closed.

``python -c "from analysis.plots import serve; serve()"`` is the suite's figure process (``serve``).
"""

from __future__ import annotations

import importlib
import json
import math
import sys
import textwrap
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import matplotlib
import moocore
import numpy as np
from cycler import cycler
from matplotlib.axes import Axes
from matplotlib.colors import colorConverter, to_rgb
from matplotlib.figure import Figure

from analysis.aggregate import INDICATORS, X_LABELS, RunCurve, Summary, run_curves, summaries, x_values
from analysis.indicators import nondominated
from analysis.io import Run, scan_experiment

if TYPE_CHECKING:
    import pandas as pd

_PANEL_WIDTH = 4.2
_PANEL_HEIGHT = 3.2

# seaborn's theme, ``seaborn.set_theme(style=..., context="paper")`` of seaborn 0.13, and its "colorblind"
# palette, as data: importing seaborn imports scipy.stats (over a second of CPU), which every run of the suite
# would pay for its one figure. tests/suite/test_figure_process.py checks these values against seaborn's own
# set_theme and color_palette, and that a figure drawn either way has the same pixels. Left out: seaborn's
# default colour map, "rocket" (``image.cmap``), which exists only once seaborn is imported; no figure here
# draws with the default colour map.
_WHITEGRID = {
    "figure.facecolor": "white", "axes.labelcolor": ".15", "xtick.direction": "out", "ytick.direction": "out",
    "xtick.color": ".15", "ytick.color": ".15", "axes.axisbelow": True, "grid.linestyle": "-", "text.color": ".15",
    "font.family": ["sans-serif"],
    "font.sans-serif": ["Arial", "DejaVu Sans", "Liberation Sans", "Bitstream Vera Sans", "sans-serif"],
    "lines.solid_capstyle": "round", "patch.edgecolor": "w", "patch.force_edgecolor": True, "xtick.top": False,
    "ytick.right": False, "axes.grid": True, "axes.facecolor": "white", "axes.edgecolor": ".8", "grid.color": ".8",
    "axes.spines.left": True, "axes.spines.bottom": True, "axes.spines.right": True, "axes.spines.top": True,
    "xtick.bottom": False, "ytick.left": False,
}
_STYLES = {"whitegrid": _WHITEGRID, "white": {**_WHITEGRID, "axes.grid": False, "axes.edgecolor": ".15"}}
#: the "paper" context is seaborn's "notebook" sizes times 0.8
_PAPER = {name: size * 0.8 for name, size in {
    "axes.linewidth": 1.25, "grid.linewidth": 1, "lines.linewidth": 1.5, "lines.markersize": 6, "patch.linewidth": 1,
    "xtick.major.width": 1.25, "ytick.major.width": 1.25, "xtick.minor.width": 1, "ytick.minor.width": 1,
    "xtick.major.size": 6, "ytick.major.size": 6, "xtick.minor.size": 4, "ytick.minor.size": 4, "font.size": 12,
    "axes.labelsize": 12, "axes.titlesize": 12, "xtick.labelsize": 11, "ytick.labelsize": 11, "legend.fontsize": 11,
    "legend.title_fontsize": 12}.items()}
#: the colour cycle ("deep"), and the colours it gives the codes b, g, r, m, y, c and k ("deep6" and a dark grey)
_DEEP = ["#4C72B0", "#DD8452", "#55A868", "#C44E52", "#8172B3", "#937860", "#DA8BC3", "#8C8C8C", "#CCB974", "#64B5CD"]
_DEEP_CODES = ["#4C72B0", "#55A868", "#C44E52", "#8172B3", "#CCB974", "#64B5CD", (0.1, 0.1, 0.1)]
_COLORBLIND = ["#0173B2", "#DE8F05", "#029E73", "#D55E00", "#CC78BC", "#CA9161", "#FBAFE4", "#949494", "#ECE133",
               "#56B4E9"]


def _theme(style: str) -> None:
    """What ``seaborn.set_theme(style=style, context="paper")`` sets, for style "whitegrid" or "white"."""
    matplotlib.rcParams.update({**_STYLES[style], **_PAPER, "axes.prop_cycle": cycler(color=list(map(to_rgb, _DEEP)))})
    for code, colour in zip("bgrmyck", _DEEP_CODES):
        colorConverter.colors[code] = to_rgb(colour)


def _palette(baselines: list[str]) -> dict[str, tuple[float, float, float]]:
    """One colour per baseline, the same in every figure of an analysis (seaborn's "colorblind", cycled)."""
    colours = [to_rgb(_COLORBLIND[i % len(_COLORBLIND)]) for i in range(max(len(baselines), 1))]
    return dict(zip(sorted(baselines), colours))


def _panels(n: int, columns: int = 3) -> tuple[Figure, list[Axes]]:
    columns = max(1, min(columns, n))
    rows = math.ceil(n / columns)
    # constrained layout places titles, colour bars and an outside legend in one pass at save time
    figure = Figure(figsize=(_PANEL_WIDTH * columns, _PANEL_HEIGHT * rows), layout="constrained")
    flat = list(figure.subplots(rows, columns, squeeze=False).flat)
    for unused in flat[n:]:
        unused.set_visible(False)
    return figure, flat[:n]


def _save(figure: Figure, stem: Path) -> Path:
    stem = Path(stem)
    stem.parent.mkdir(parents=True, exist_ok=True)
    png = stem.with_suffix(".png")
    # zlib's level 1 instead of Pillow's 6: the same pixels in a file about a third larger, written in a
    # fraction of the time
    figure.savefig(png, dpi=150, pil_kwargs={"compress_level": 1})
    # laid out again, for the PDF's own text measures: the PNG's places would move its parts by up to 4 pt
    figure.savefig(stem.with_suffix(".pdf"))
    return png


def _footnote(figure: Figure, note: str) -> None:
    """``note`` under the panels (runs a figure leaves out or includes although incomplete), wrapped."""
    if note:
        lines = textwrap.wrap(note, int(figure.get_figwidth() * 16))
        figure.set_figheight(figure.get_figheight() + 0.16 * len(lines))  # the panels keep their height
        figure.supxlabel("\n".join(lines), fontsize="small", horizontalalignment="left", x=0.01)


def _legend(figure: Figure, axes: list[Axes]) -> None:
    # a baseline may be missing from some panels: collect each label once, from any panel
    entries: dict[str, object] = {}
    for ax in axes:
        for handle, label in zip(*ax.get_legend_handles_labels()):
            entries.setdefault(label, handle)
    if entries:
        figure.legend(list(entries.values()), list(entries), loc="outside right center", frameon=False)


def _y_label(indicator: str, value: str, front: str) -> str:
    """What a curve shows: the indicator, and for IGD+, epsilon and regret which front it is measured to."""
    if value == "regret":
        return f"hypervolume regret to the {front} front (log)"
    if indicator == "hv":
        return "hypervolume (normalised)"
    return f"{INDICATORS[indicator].label} to the {front} front"


def plot_over_time(
    summary: pd.DataFrame, stem: Path, x: str = "evaluations", log_x: bool = False, statistic: str = "median",
    set_aside: pd.DataFrame | None = None, note: str = "",
) -> Path:
    """One panel per task, one line per baseline with its band, from ``aggregate``'s table (which says the
    indicator, the value drawn and the reference front of each task).

    ``set_aside``: ``indicator_curves`` rows of runs left out of the statistics (failed, incomplete), each
    drawn as a thin dotted line in its baseline's colour; ``note`` is written under the panels."""
    if summary.empty:
        raise ValueError("nothing to plot: no run has a finished evaluation")
    lines = [Summary(task, baseline, *(line[c].to_numpy() for c in ("x", "center", "lower", "upper", "n_seeds")),
                     indicator=str(line["indicator"].iloc[0]), front=str(line["front"].iloc[0]),
                     value=str(line["value"].iloc[0]))
             for (task, baseline), line in summary.groupby(["task", "baseline"], sort=True)]
    aside = []
    if set_aside is not None and len(set_aside):
        value = lines[0].value
        aside = [_Dotted(task, baseline, seed, run["x"].to_numpy(), run[value].to_numpy())
                 for (task, baseline, seed), run in set_aside.assign(x=x_values(set_aside, x)).groupby(
                     ["task", "baseline", "seed"], sort=True)]
    return _draw_over_time(lines, aside, stem, x, log_x, statistic, note)


@dataclass(frozen=True)
class _Dotted:
    """The curve of a run left out of the statistics (failed, incomplete)."""

    task: str
    baseline: str
    seed: int
    x: np.ndarray
    y: np.ndarray


def _draw_over_time(lines: list[Summary], aside: list[_Dotted], stem: Path, x: str = "evaluations",
                    log_x: bool = False, statistic: str = "median", note: str = "") -> Path:
    """``plot_over_time`` of ``summaries`` (not empty; one indicator and value) and of the curves ``aside``."""
    _theme("whitegrid")
    tasks = sorted({line.task for line in lines})
    colours = _palette(list({line.baseline for line in lines}))
    figure, axes = _panels(len(tasks))
    band = "interquartile range" if statistic == "median" else "standard error"
    indicator, value = lines[0].indicator, lines[0].value
    for ax, task in zip(axes, tasks):
        of_task = sorted((line for line in lines if line.task == task), key=lambda line: line.baseline)
        for line in of_task:
            # the curves are step functions read on a grid: draw them as steps, not interpolated
            ax.plot(line.x, line.center, label=line.baseline, color=colours[line.baseline], linewidth=1.5,
                    drawstyle="steps-post")
            ax.fill_between(line.x, line.lower, line.upper, color=colours[line.baseline], alpha=0.2, linewidth=0,
                            step="post")
        for run in sorted((run for run in aside if run.task == task), key=lambda run: (run.baseline, run.seed)):
            ax.plot(run.x, run.y, color=colours.get(run.baseline, "grey"), linewidth=0.8, linestyle=":",
                    drawstyle="steps-post", label="not ranked (failed, incomplete)")
        ax.set_title(task)
        ax.set_xlabel(X_LABELS[x])
        ax.set_ylabel(_y_label(indicator, value, of_task[0].front))
        if value == "regret":
            ax.set_yscale("log")
        if log_x:
            ax.set_xscale("log")
    name = "Hypervolume regret" if value == "regret" else INDICATORS[indicator].label.capitalize()
    better = "lower" if value == "regret" or not INDICATORS[indicator].higher_is_better else "higher"
    figure.suptitle(f"{name} ({better} is better): {statistic} across seeds\n(band: {band})")
    _legend(figure, axes)
    _footnote(figure, note)
    return _save(figure, stem)


def _label(run: Run, index: int) -> str:
    unit = run.units[index]
    return f"{run.objective_names[index]} ({unit})" if unit else run.objective_names[index]


def check_objective_pair(run: Run, objectives: tuple[int, int]) -> tuple[int, int]:
    m = len(run.objective_names)
    if len(objectives) != 2 or not all(0 <= i < m for i in objectives) or objectives[0] == objectives[1]:
        raise ValueError(f"objectives={tuple(objectives)} must be two different indices in 0..{m - 1} for task {run.task!r} "
                         f"({', '.join(run.objective_names)})")
    return objectives[0], objectives[1]


def _scales(ax: Axes, points: np.ndarray) -> None:
    """A log axis where positive values span more than three decades (an MSE next to its outliers)."""
    for column, setter in ((0, ax.set_xscale), (1, ax.set_yscale)):
        values = points[:, column][np.isfinite(points[:, column])]
        if len(values) and values.min() > 0 and values.max() / values.min() > 1e3:
            setter("log")


def _front_2d(points: np.ndarray) -> np.ndarray:
    """The non-dominated rows of the finite rows of (n, 2) points, sorted by the first objective."""
    front = nondominated(points)
    return front[np.argsort(front[:, 0])]


def _staircase(ax: Axes, front: np.ndarray, **style: object) -> None:
    # minimisation: from each point right to the next point's x, then down to its y
    if len(front):
        ax.step(front[:, 0], front[:, 1], where="post", **style)


def _one_task(runs: list[Run], objectives: tuple[int, int], what: str) -> tuple[int, int, list[str], dict[str, tuple[float, float, float]]]:
    """The checked objective pair, the baselines and their colours of runs that must share one task."""
    _theme("whitegrid")
    tasks = {run.task for run in runs}
    if len(tasks) != 1:
        raise ValueError(f"{what} draws one task, got runs of {sorted(tasks)}")
    i, j = check_objective_pair(runs[0], objectives)
    baselines = sorted({run.baseline for run in runs})
    return i, j, baselines, _palette(baselines)


def plot_fronts(runs: list[Run], stem: Path, objectives: tuple[int, int] = (0, 1), note: str = "") -> Path:
    """Final Pareto fronts of one task: a panel per baseline (each seed thin, all seeds pooled thick) and
    a last panel with every baseline's pooled front. With more than two objectives, the front of the
    chosen pair (projection) is drawn. ``note`` is written under the panels."""
    i, j, baselines, colours = _one_task(runs, objectives, "plot_fronts")
    figure, axes = _panels(len(baselines) + 1)
    everything = np.vstack([run.values[:, [i, j]] for run in runs])
    for ax, baseline in zip(axes, baselines):
        of_baseline = [run for run in runs if run.baseline == baseline]
        for run in of_baseline:
            _staircase(ax, _front_2d(run.values[:, [i, j]]), color=colours[baseline], alpha=0.35, linewidth=0.8)
        pooled = _front_2d(np.vstack([run.values[:, [i, j]] for run in of_baseline]))
        _staircase(ax, pooled, color=colours[baseline], linewidth=2, label=baseline)
        ax.scatter(pooled[:, 0], pooled[:, 1], color=colours[baseline], s=10, zorder=3)
        ax.set_title(f"{baseline}: {len(of_baseline)} seeds (thin) and pooled")
        axes[-1].scatter(pooled[:, 0], pooled[:, 1], color=colours[baseline], s=10, zorder=3)
        _staircase(axes[-1], pooled, color=colours[baseline], linewidth=1.5, label=baseline)
    axes[-1].set_title("pooled fronts of all baselines")
    for ax in axes:
        ax.set_xlabel(_label(runs[0], i))
        ax.set_ylabel(_label(runs[0], j))
        _scales(ax, everything)
    figure.suptitle(f"{runs[0].task}: final Pareto fronts")
    axes[-1].legend(frameon=False)
    _footnote(figure, note)
    return _save(figure, stem)


def attainment_surfaces(sets: list[np.ndarray], percentiles: tuple[float, ...]) -> dict[float, np.ndarray]:
    """The p% attainment surface of each p: the minimal points attained by at least ceil(p/100 * n) of
    the n sets (rows with NaN are skipped). A set without any finished point still counts in n, so that
    a run that produced nothing makes the surfaces worse rather than vanish; a level no surface reaches
    is left out."""
    if not all(0 < p <= 100 for p in percentiles):
        raise ValueError(f"percentiles must lie in (0, 100], got {percentiles}")
    finite = [s[np.all(np.isfinite(s), axis=1)] for s in sets]
    present = [s for s in finite if len(s)]
    if not present:
        return {}
    points = np.vstack(present)
    ids = np.concatenate([np.full(len(s), k + 1) for k, s in enumerate(present)])
    # every level moocore can give: k of the present sets, as a percentage of them
    levels = moocore.eaf(points, ids)
    surfaces = {}
    for percentile in percentiles:
        needed = math.ceil(percentile * len(sets) / 100 - 1e-9)
        if needed <= len(present):
            level = 100.0 * needed / len(present)
            surfaces[percentile] = levels[np.isclose(levels[:, -1], level), :-1]
    return surfaces


def plot_attainment(
    runs: list[Run], stem: Path, objectives: tuple[int, int] = (0, 1), percentiles: tuple[float, ...] = (25, 50, 75),
    note: str = "",
) -> Path:
    """Empirical attainment surfaces (moocore.eaf) of one task's baselines over their seeds: the median
    surface solid, the other percentiles dashed (lower percentile = attained by fewer runs = better).
    ``note`` is written under the panel.

    Fonseca et al., 2011, "On the computation of the empirical attainment function" (EMO).
    """
    i, j, baselines, colours = _one_task(runs, objectives, "plot_attainment")
    figure, (ax,) = _panels(1)
    figure.set_size_inches(_PANEL_WIDTH * 1.4, _PANEL_HEIGHT * 1.4)
    for baseline in baselines:
        sets = [run.values[:, [i, j]] for run in runs if run.baseline == baseline]
        surfaces = attainment_surfaces(sets, percentiles)
        labelled = 50 if 50 in surfaces else next(iter(surfaces), None)
        for percentile, surface in surfaces.items():
            _staircase(ax, _front_2d(surface), color=colours[baseline], linewidth=2 if percentile == 50 else 1,
                       linestyle="-" if percentile == 50 else "--",
                       label=f"{baseline} ({len(sets)} seeds)" if percentile == labelled else None)
    _scales(ax, np.vstack([run.values[:, [i, j]] for run in runs]))
    ax.set_xlabel(_label(runs[0], i))
    ax.set_ylabel(_label(runs[0], j))
    others = ", ".join(f"{p:g}%" for p in percentiles if p != 50)
    ax.set_title(f"{runs[0].task}: attainment surfaces\n50% solid" + (f", {others} dashed" if others else ""))
    ax.legend(frameon=False)
    _footnote(figure, note)
    return _save(figure, stem)


def plot_ranks(ranks: pd.DataFrame, stem: Path, log_x: bool = False) -> Path:
    """Average rank over time across tasks (from ``ranks_over_time``), one line per baseline."""
    _theme("whitegrid")
    colours = _palette(list(ranks["baseline"].unique()))
    figure, (ax,) = _panels(1)
    for baseline, line in ranks.groupby("baseline", sort=True):
        ax.plot(line["fraction"], line["rank"], color=colours[baseline], label=baseline, linewidth=1.5,
                drawstyle="steps-post")
    ax.set_xlabel("fraction of each task's horizon")
    ax.set_ylabel("average rank (1 = best)")
    ax.set_title(f"Average rank of {INDICATORS[str(ranks['indicator'].iloc[0])].label} over "
                 f"{int(ranks['tasks'].iloc[0])} tasks")
    if log_x:
        ax.set_xscale("log")
    ax.legend(frameon=False)
    return _save(figure, stem)


def plot_critical_difference(ranks: pd.DataFrame, summary: dict[str, object], stem: Path) -> Path:
    """Critical-difference diagram (Demšar, 2006) from ``average_ranks``: average final ranks on one axis,
    a bar joining each clique of baselines that the Nemenyi test does not tell apart, and the critical
    difference above the axis. Drawn by scikit-posthocs from the pairwise Nemenyi p-values."""
    import scikit_posthocs  # here: it imports scipy.stats (over a second), which no other figure needs

    _theme("white")
    colours = _palette(list(ranks["baseline"]))
    k = len(ranks)
    figure = Figure(figsize=(_PANEL_WIDTH * 1.6, 1.8 + 0.4 * k), layout="constrained")
    ax = figure.subplots()
    scikit_posthocs.critical_difference_diagram(
        ranks.set_index("baseline")["average_rank"], summary["p_values"], cd=summary["critical_difference"],
        alpha=summary["alpha"], ax=ax, color_palette=colours, label_fmt_left="{label} ({rank:.2f})",
        label_fmt_right="({rank:.2f}) {label}")
    # room above the rank axis for its tick labels and the critical-difference bar
    ax.set_ylim(top=1.4)
    ax.margins(x=0.15)
    label = INDICATORS[str(ranks["indicator"].iloc[0])].label
    ax.set_title(f"Final {label}: average rank over {int(ranks['tasks'].iloc[0])} tasks (1 = best)\nbars join "
                 f"baselines the Nemenyi test does not tell apart (alpha = {summary['alpha']:g})")
    return _save(figure, stem)


def plot_evaluations(run: Run, stem: Path, objectives: tuple[int, int] = (0, 1)) -> Path:
    """Every evaluation of one run in objective space, coloured by when it finished; its final front on top."""
    _theme("whitegrid")
    i, j = check_objective_pair(run, objectives)
    points = run.values[:, [i, j]]
    ok = np.all(np.isfinite(points), axis=1)
    figure, (ax,) = _panels(1)
    figure.set_size_inches(_PANEL_WIDTH * 1.3, _PANEL_HEIGHT * 1.3)
    clock = "simulated time (s)" if run.clock == "simulated" else "wall-clock time (s)"
    scatter = ax.scatter(points[ok, 0], points[ok, 1], c=run.end[ok], cmap="viridis", s=12, alpha=0.8)
    figure.colorbar(scatter, ax=ax, label=f"finished at, {clock}")
    _staircase(ax, _front_2d(points), color="black", linewidth=1, label="final front")
    _scales(ax, points)
    ax.set_xlabel(_label(run, i))
    ax.set_ylabel(_label(run, j))
    ax.set_title(f"{run.task} / {run.baseline} / seed {run.seed}: {int(ok.sum())} of {len(points)} evaluations ok")
    ax.legend(frameon=False)
    return _save(figure, stem)

def plot_experiment(experiment: Path, out: Path) -> Path:
    """Hypervolume over evaluations of the complete runs under ``experiment`` (median and IQR across
    seeds, one panel per task) written to ``out/hypervolume_over_time.{png,pdf}``; returns the PNG path.
    Failed and incomplete runs are dotted and named under the panels; run folders left out are named on
    stderr. Computed on arrays (``run_curves``, ``summaries``): no pandas is imported."""
    scanned = scan_experiment(experiment)
    for left in scanned.left_out:
        print(f"left out {left.folder}: {left.reason}", file=sys.stderr)
    curves = run_curves(scanned.runs, "hv")
    lines = summaries([curve for curve in curves if curve.run.complete], x="evaluations")
    if not lines:
        raise ValueError("nothing to plot: no run has a finished evaluation")
    aside = [_dotted(curve) for curve in curves if not curve.run.complete and len(curve.values)]
    return _draw_over_time(lines, aside, Path(out) / "hypervolume_over_time",
                           note=runs_note([run for run in scanned.runs if not run.complete], "Not in the statistics"))


def _dotted(curve: RunCurve) -> _Dotted:
    return _Dotted(curve.run.task, curve.run.baseline, curve.run.seed, curve.x("evaluations"), curve.values)


def runs_note(runs: list[Run], heading: str, most: int = 6) -> str:
    """``heading`` and the first ``most`` of ``runs`` with how far each got; "" without runs."""
    if not runs:
        return ""
    named = [f"{run.task}/{run.baseline} seed {run.seed} ({run.progress})" for run in runs[:most]]
    more = f" and {len(runs) - most} more" if len(runs) > most else ""
    return f"{heading}: " + "; ".join(named) + more


#: modules the first figure would import once asked, after the runs: imported by ``serve`` while they go on
_FIRST_USE = ("matplotlib.backends.backend_agg", "matplotlib.backends.backend_pdf", "pyarrow.parquet", "pyarrow.compute",
              "PIL.Image")


def serve() -> int:
    """The suite's figure process: started while the runs go on, it draws ``plot_experiment`` once they are done.

    ``suite.cli`` starts it as soon as its arguments are checked, so that the plotting stack (matplotlib, pyarrow,
    the PNG and PDF writers: about a second) is imported on another core meanwhile. It then reads one JSON line on
    stdin, ``{"experiment": ..., "out": ...}``, and answers one on stdout, ``{"figure": png}`` or ``{"error": why}``
    for what ``plot_experiment`` refuses (a ValueError). Input that ends without a request ends it at once.
    """
    for module in _FIRST_USE:
        importlib.import_module(module)
    sys.modules["PIL.Image"].preinit()  # the plug-ins Pillow imports on its first save
    line = sys.stdin.readline()
    if not line.strip():
        return 0
    request = json.loads(line)
    try:
        answer = {"figure": str(plot_experiment(Path(request["experiment"]), Path(request["out"])))}
    except ValueError as error:
        answer = {"error": str(error)}
    print(json.dumps(answer), flush=True)
    return 0
