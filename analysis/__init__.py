"""Analysis of result folders: hypervolume over time, aggregation across seeds, figures and tables.

Reads result files only (no runner code), so results made on a cluster can be analysed anywhere.
``python -m analysis results/<experiment> --out figures/`` writes every figure and table.
(``analysis.hypervolume`` is the module of indicator functions; it is deliberately not shadowed here.)
"""

from __future__ import annotations

from analysis.aggregate import aggregate, hypervolume_curves
from analysis.indicators import hypervolume_over_time, normalise
from analysis.io import Run, TrueFront, load_experiment, read_run, true_front
from analysis.plots import plot_experiment, plot_over_time

__all__ = [
    "Run",
    "TrueFront",
    "aggregate",
    "hypervolume_curves",
    "hypervolume_over_time",
    "load_experiment",
    "normalise",
    "plot_experiment",
    "plot_over_time",
    "read_run",
    "true_front",
]
