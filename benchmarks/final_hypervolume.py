"""The final hypervolume of every baseline of one task's runs, a line each: the one-shot scripts' comparison."""

from __future__ import annotations

from analysis.aggregate import indicator_curves
from analysis.io import Run
from analysis.stats import final_values


def print_final_hypervolumes(runs: list[Run], header: str, regret: bool = False) -> None:
    """Print ``header``, then per baseline (sorted) the medians over its seeds of the final hypervolume
    (normalised), of the regret to the task's reference front (with ``regret``) and of the evaluations, and the
    number of seeds."""
    final = final_values(indicator_curves(runs, "hv"))
    print(header)
    for baseline, of in final.groupby("baseline"):
        line = f"  {baseline:14s} HV {of['value'].median():.4f}"
        if regret:
            line += f"  regret {of['regret'].median():.4f}"
        print(f"{line}  evaluations {int(of['evaluations'].median())}  seeds {len(of)}")
