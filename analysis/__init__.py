"""Analysis of result folders: quality indicators over time, aggregation across seeds, figures and tables.

Reads result files only (no runner code), so results made on a cluster can be analysed anywhere.
``python -m analysis results/<experiment> --out figures/ [--indicator hv|igdplus|epsilon]`` writes every
figure and table. ``analysis.indicators`` holds the indicators as pure functions over arrays.
"""

from __future__ import annotations

import importlib
from typing import Any

from analysis.aggregate import INDICATORS, aggregate, indicator_curves, reference_fronts
from analysis.indicators import (
    epsilon_additive,
    epsilon_additive_over_time,
    hypervolume,
    hypervolume_over_time,
    igd_plus,
    igd_plus_over_time,
    nondominated,
    normalise,
)
from analysis.io import Experiment, LeftOut, Run, TrueFront, load_experiment, read_run, scan_experiment, true_front

#: the figures need matplotlib (and scikit-posthocs for one of them): imported on first use (PEP 562), so that
#: ``python -m analysis --help`` and a bad argument answer without them
_FIGURES = ("plot_experiment", "plot_over_time")

__all__ = [
    "INDICATORS", "Experiment", "LeftOut", "Run", "TrueFront", "aggregate", "epsilon_additive",
    "epsilon_additive_over_time", "hypervolume", "hypervolume_over_time", "igd_plus", "igd_plus_over_time",
    "indicator_curves", "load_experiment", "nondominated", "normalise", "plot_experiment", "plot_over_time",
    "read_run", "reference_fronts", "scan_experiment", "true_front",
]


def __getattr__(name: str) -> Any:
    if name not in _FIGURES:
        raise AttributeError(f"module 'analysis' has no attribute {name!r}")
    value = getattr(importlib.import_module("analysis.plots"), name)
    globals()[name] = value
    return value
