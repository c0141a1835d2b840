"""ParEGO as it runs against ParEGO with SMAC's and ConfigSpace's own code paths: time per trial and quality.

ParEGO predicts with a plain loop over its trees (``_TreeLoopEnsemble`` in baselines/_parego_smac.py), draws
SMAC's random configurations in one batch (``_BatchSampledSpace``), answers ``Configuration``'s ``==``,
``hash`` and ``[]`` from vectors and memos while SMAC runs (``_fast_configurations``), predicts SMAC's
incumbent estimate in one call (``_BatchBestSelector``) and makes its local search's neighbourhoods with
``_table_neighbourhood`` (``_OrderedLocalSearch._search``). The reference run ``--reference smac-paths``
(default) patches SMAC's own ``all_trees_pred`` (joblib ``Parallel`` with ``n_jobs=1`` and sklearn's input
validation), ConfigSpace's own ``sample_configuration`` (five configurations per round), ConfigSpace's own
``Configuration`` methods, SMAC's own ``_get_x_best`` and SMAC's own ``_search`` (ConfigSpace's
``get_one_exchange_neighbourhood``) back in; ``--reference same-answers`` only the last three (the same
answers, so the same trials in every seed). Both run through the same ParEGO
wrapper and the simulated-clock loop, interleaved seed by seed (alternating which goes first). Prints wall
seconds per trial (medians), the ratio, the final hypervolume (expected objectives, normalised), a two-sided
Mann-Whitney U test over the seeds, and in how many seeds both proposed the same configurations (the batch
draws consume the random stream in another order, so against smac-paths they differ from the first
acquisition on).

    python benchmarks/parego_speed.py [--task fcnet-naval] [--seeds 10] [--budget 100]
                                      [--reference smac-paths|same-answers]
"""

from __future__ import annotations

import argparse
import contextlib
import time
from unittest.mock import patch

from ConfigSpace import ConfigurationSpace
from smac.acquisition.maximizer.local_search import LocalSearch
from smac.main.config_selector import ConfigSelector
from smac.model.random_forest.random_forest import EPMRandomForest

from baselines import _parego_smac as parego
from baselines._parego_smac import _BatchSampledSpace, _OrderedLocalSearch, _TreeLoopEnsemble
from baselines.parego import ParEGO
from suite.loops import simulate
from suite.spec import Budget
from tasks.base import Task

from parego_forest import compare, final_hypervolume  # the sibling script: benchmarks/ runs as scripts

def run(task: Task, variant: str, seed: int, budget: int) -> tuple[float, float, list[str]]:
    """(final hypervolume, wall seconds per trial, proposed configurations) of one ParEGO run."""
    rows: list[dict] = []
    reference = variant == "smac-paths"
    predict = EPMRandomForest.all_trees_pred if reference else _TreeLoopEnsemble.all_trees_pred
    sample = ConfigurationSpace.sample_configuration if reference else _BatchSampledSpace.sample_configuration
    methods = parego._fast_configurations if variant == "parego" else contextlib.nullcontext
    x_best = parego._BatchBestSelector._get_x_best if variant == "parego" else ConfigSelector._get_x_best
    search = _OrderedLocalSearch._search if variant == "parego" else LocalSearch._search
    with patch.object(_TreeLoopEnsemble, "all_trees_pred", predict), \
            patch.object(_BatchSampledSpace, "sample_configuration", sample), \
            patch.object(parego, "_fast_configurations", methods), \
            patch.object(parego._BatchBestSelector, "_get_x_best", x_best), \
            patch.object(_OrderedLocalSearch, "_search", search):
        started = time.perf_counter()
        simulate(ParEGO(task.space, task.objectives, None, seed), task, seed, Budget(evaluations=budget), 1,
                 rows.append)
        seconds = (time.perf_counter() - started) / budget
    return final_hypervolume(task, rows), seconds, [row["config"] for row in rows]  # a JSON string per row


def main() -> None:
    parser = argparse.ArgumentParser(add_help=False)
    parser.add_argument("--reference", choices=("smac-paths", "same-answers"), default="smac-paths")
    reference = parser.parse_known_args()[0].reference
    results = compare(__doc__.splitlines()[0], (reference, "parego"), run)
    same = sum(old[2] == new[2] for old, new in zip(results[reference], results["parego"]))
    print(f"same configurations in {same} of {len(results['parego'])} seeds")


if __name__ == "__main__":
    main()
