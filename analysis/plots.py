"""Figures (seaborn style, matplotlib Agg backend), each written as PNG and PDF.

Every function takes tables or runs and a path stem, writes ``<stem>.png`` and ``<stem>.pdf`` and returns
the PNG path, so a notebook can show it and a CLI can list it.
"""

from __future__ import annotations

import math
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # figures are files; no display is needed or available on a cluster

import matplotlib.pyplot as plt  # noqa: E402
import moocore  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import seaborn as sns  # noqa: E402

from analysis.aggregate import X_LABELS, aggregate, hypervolume_curves  # noqa: E402
from analysis.io import Run, load_experiment  # noqa: E402

_PANEL_WIDTH = 4.2
_PANEL_HEIGHT = 3.2


def _palette(baselines: list[str]) -> dict[str, tuple[float, float, float]]:
    """One colour per baseline, the same in every figure of an analysis."""
    return dict(zip(sorted(baselines), sns.color_palette("colorblind", max(len(baselines), 1))))


def _panels(n: int, columns: int = 3) -> tuple[plt.Figure, list[plt.Axes]]:
    columns = max(1, min(columns, n))
    rows = math.ceil(n / columns)
    figure, axes = plt.subplots(rows, columns, figsize=(_PANEL_WIDTH * columns, _PANEL_HEIGHT * rows), squeeze=False)
    flat = list(axes.flat)
    for unused in flat[n:]:
        unused.set_visible(False)
    return figure, flat[:n]


def _save(figure: plt.Figure, stem: Path) -> Path:
    stem = Path(stem)
    stem.parent.mkdir(parents=True, exist_ok=True)
    png = stem.with_suffix(".png")
    # tight bounding box: the legend sits outside the panels
    figure.savefig(png, dpi=150, bbox_inches="tight")
    figure.savefig(stem.with_suffix(".pdf"), bbox_inches="tight")
    plt.close(figure)
    return png


def _legend(figure: plt.Figure, axes: list[plt.Axes]) -> None:
    handles, labels = axes[0].get_legend_handles_labels()
    if handles:
        figure.legend(handles, labels, loc="center left", bbox_to_anchor=(1.0, 0.5), frameon=False)


def plot_over_time(
    summary: pd.DataFrame, stem: Path, x: str = "evaluations", value: str = "hypervolume", log_x: bool = False,
    statistic: str = "median",
) -> Path:
    """One panel per task, one line per baseline with its band, from ``aggregate``'s table."""
    sns.set_theme(style="whitegrid", context="paper")
    tasks = sorted(summary["task"].unique())
    colours = _palette(list(summary["baseline"].unique()))
    figure, axes = _panels(len(tasks))
    band = "interquartile range" if statistic == "median" else "standard error"
    for ax, task in zip(axes, tasks):
        for baseline, line in summary[summary["task"] == task].groupby("baseline", sort=True):
            ax.plot(line["x"], line["center"], label=baseline, color=colours[baseline], linewidth=1.5)
            ax.fill_between(line["x"], line["lower"], line["upper"], color=colours[baseline], alpha=0.2, linewidth=0)
        ax.set_title(task)
        ax.set_xlabel(X_LABELS[x])
        if value == "regret":
            ax.set_yscale("log")
            ax.set_ylabel("hypervolume regret (log)")
        else:
            ax.set_ylabel("hypervolume (normalised)")
        if log_x:
            ax.set_xscale("log")
    figure.suptitle(f"{'Hypervolume regret' if value == 'regret' else 'Hypervolume'}: {statistic} across seeds\n"
                    f"(band: {band})")
    figure.tight_layout()
    _legend(figure, axes)
    return _save(figure, stem)


def plot_experiment(experiment: Path, out: Path) -> Path:
    """Hypervolume over evaluations of every run under ``experiment`` (median and IQR across seeds, one
    panel per task) written to ``out/hypervolume_over_time.{png,pdf}``; returns the PNG path."""
    runs = load_experiment(experiment)
    summary = aggregate(hypervolume_curves(runs), x="evaluations")
    return plot_over_time(summary, Path(out) / "hypervolume_over_time")
