"""Analysis of result folders: quality indicators over time, aggregation across seeds, figures and tables.

Reads result files only (no runner code), so results made on a cluster can be analysed anywhere.
``python -m analysis results/<experiment> --out figures/ [--indicator hv|igdplus|epsilon]`` writes every
figure and table. ``analysis.indicators`` holds the indicators as pure functions over arrays.
"""

from __future__ import annotations

import importlib
from typing import Any

#: public name -> the module that defines it. Imported on first use (PEP 562), so that ``python -m analysis
#: --help`` and a bad argument answer without matplotlib, seaborn and scikit-posthocs, which the figures need.
_EXPORTS = {
    **dict.fromkeys(("INDICATORS", "aggregate", "indicator_curves", "reference_fronts"), "analysis.aggregate"),
    **dict.fromkeys(("epsilon_additive", "epsilon_additive_over_time", "hypervolume", "hypervolume_over_time",
                     "igd_plus", "igd_plus_over_time", "nondominated", "normalise"), "analysis.indicators"),
    **dict.fromkeys(("Experiment", "LeftOut", "Run", "TrueFront", "load_experiment", "read_run", "scan_experiment",
                     "true_front"), "analysis.io"),
    **dict.fromkeys(("plot_experiment", "plot_over_time"), "analysis.plots"),
}
__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module 'analysis' has no attribute {name!r}")
    value = getattr(importlib.import_module(_EXPORTS[name]), name)
    globals()[name] = value
    return value
