"""Every config file shipped in configs/ passes the suite's own validation, and the paper configs say the paper's."""

from __future__ import annotations

from pathlib import Path

import pytest

from suite.grid import build_config, read_config_file

CONFIGS = sorted((Path(__file__).resolve().parents[1] / "configs").iterdir())
#: the paper's six methods under the suite's names (MOSH-BANANAS is mo_bananas with successive halving, labelled)
PAPER_METHODS = {"random_search", "mo_bohb", "sh_emoa", "mo_bananas", "mosh_bananas", "ms_ehvi", "bulk_and_cut"}


def test_there_are_configs_for_one_machine_a_cluster_and_a_demo() -> None:
    names = {path.name for path in CONFIGS}
    assert {"paper-flowers17.yaml", "paper-fashion-mnist.yaml", "paper-flowers17-slurm.yaml",
            "paper-fashion-mnist-slurm.yaml", "paper-demo.yaml"} <= names


@pytest.mark.parametrize("path", CONFIGS, ids=[path.name for path in CONFIGS])
def test_config_passes_the_suites_validation(path: Path) -> None:
    config = build_config(read_config_file(path))  # names, options, budget and cluster checked as a run would
    assert config.baselines and set(config.baselines) <= PAPER_METHODS
    if path.name == "paper-demo.yaml":
        assert config.tasks == ("paper-flowers17-demo",) and config.budget.evaluations is not None
        return
    assert len(config.tasks) == 1 and config.tasks[0] in ("paper-flowers17", "paper-fashion-mnist")
    # MO-BANANAS and MOSH-BANANAS side by side: one registered baseline, two labels, successive halving in one
    assert config.registered == {"mosh_bananas": "mo_bananas"}
    assert config.baseline_options["mosh_bananas"]["successive_halving"] is True
    assert not config.baseline_options["mo_bananas"].get("successive_halving", False)
    # the paper's 24 hours of wall clock per method and run, and no evaluation cap of ours
    assert config.budget.seconds == 24 * 3600 and config.budget.evaluations is None
    assert config.workers == 1
    if path.stem.endswith("-slurm"):
        assert config.cluster.kind == "slurm" and config.cluster.gpus == 1 and config.resources == {"GPU": 1}
    else:
        assert config.cluster.kind == "local" and config.dask_workers == 1
