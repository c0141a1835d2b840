"""device_hypernet: zero-shot fronts for new devices from their context alone, and its guards."""

from __future__ import annotations

from pathlib import Path

import moocore
import numpy as np
import pytest

from baselines._levels import LevelGrid
from baselines.device_hypernet import DeviceData, DeviceHypernet, Hypernet, spread_preferences, train_hypernet
from baselines.random_search import RandomSearch
from suite.loops import simulate
from suite.spec import Budget
from tasks import make_task
from tasks.tables.table import TableTask

HELP = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "help-nb201-latency"


def hypervolume(task: TableTask, rows: list[dict]) -> float:
    """Hypervolume of the expected objectives of ``rows``, normalised by the task's bounds (moocore)."""
    points = np.array([[row[f"expected.{o}"] for o in task.objective_names] for row in rows], dtype=float)
    return float(moocore.hypervolume(task.normalise(points), ref=np.array(task.reference_point)))


@pytest.mark.slow
@pytest.mark.skipif(not HELP.is_dir(), reason=f"{HELP} is absent (test data outside the repository)")
def test_zero_shot_front_follows_the_context_and_beats_random_search() -> None:
    import sys

    sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
    from hardware_transfer import table_data  # the benchmark's own reading of a device table

    from tasks.tables.recipes.devices import help_context, make_help_task, read_help_embedding_index, read_help_latency

    train_tasks = [make_help_task(d, HELP) for d in ("1080ti_1", "pixel3")]
    target = make_help_task("fpga", HELP)
    grid = LevelGrid(target.space)
    model = train_hypernet([table_data(t, grid) for t in train_tasks], grid, 2, seed=0, epochs=100, layers=4)
    k = 10
    rows: list[dict] = []
    simulate(DeviceHypernet.zero_shot(model, target.space, target.objectives, 0, np.array(target.context), k),
             target, 0, Budget(evaluations=k), 1, rows.append)
    random = [[] for _ in range(5)]  # type: list[list[dict]]
    for seed, found in enumerate(random):
        simulate(RandomSearch(target.space, target.objectives, None, seed), target, seed, Budget(evaluations=k), 1,
                 found.append)
    assert hypervolume(target, rows) > max(hypervolume(target, found) for found in random)
    # another device's context (raspi4, not a training device): another front from the same model
    other = help_context(read_help_latency(HELP, "raspi4"), read_help_embedding_index(HELP))
    proposals = [DeviceHypernet.zero_shot(model, target.space, target.objectives, 0, context, k)
                 for context in (np.array(target.context), np.array(other))]
    fronts = [[tuple(sorted(b.ask().config.items())) for _ in range(k)] for b in proposals]
    assert fronts[0] != fronts[1]


def test_zero_shot_refuses_a_model_of_another_space() -> None:
    fcnet, other = make_task("fcnet-naval"), make_task("hpobench-mlp-kc1")
    model = Hypernet(LevelGrid(fcnet.space), 2, 0, 8, np.random.default_rng(0))
    with pytest.raises(ValueError, match="another space"):
        DeviceHypernet.zero_shot(model, other.space, other.objectives, 0, None, 5)


def test_zero_shot_asks_the_spread_preferences_and_learns_nothing() -> None:
    task = make_task("fcnet-naval")
    grid = LevelGrid(task.space)
    indices = np.array([grid.indices(task.table.config(r)) for r in range(0, len(task.table.expected), 7)])
    values = task.table.expected[::7, -1, :]
    normalised = (values - [o.lower for o in task.objectives]) / [o.upper - o.lower for o in task.objectives]
    model = train_hypernet([DeviceData(indices, normalised, None)], grid, 2, seed=1, epochs=30)
    fingerprint = model.fingerprint()
    baseline = DeviceHypernet.zero_shot(model, task.space, task.objectives, 3, None, 6)
    rows: list[dict] = []
    simulate(baseline, task, 3, Budget(evaluations=6), 2, rows.append)
    assert model.fingerprint() == fingerprint  # told six results, the model is unchanged
    assert len({row["config"] for row in rows}) == 6
    assert baseline.options()["zero_shot_k"] == 6 and baseline.options()["training_steps"] == 30
    # what the model learnt from names it, not its weights: another seed on the same data has the same options
    again = train_hypernet([DeviceData(indices, normalised, None)], grid, 2, seed=2, epochs=30)
    assert again.fingerprint() != fingerprint
    assert again.data_fingerprint() == model.data_fingerprint()


def test_spread_preferences_lie_on_the_simplex() -> None:
    np.testing.assert_allclose(spread_preferences(3, 2), [[0, 1], [0.5, 0.5], [1, 0]])
    three = spread_preferences(10, 3)
    assert three.shape == (10, 3) and np.allclose(three.sum(axis=1), 1) and (three >= 0).all()


def test_mode_one_uses_the_context_when_there_is_one() -> None:
    task = make_task("fcnet-naval")
    baseline = DeviceHypernet(task.space, task.objectives, None, 0, context=np.array([1.0, -1.0]),
                              n_startup_trials=4, epochs=5)
    rows: list[dict] = []
    simulate(baseline, task, 0, Budget(evaluations=12), 2, rows.append)
    assert baseline._model is not None and baseline._model.context_size == 2
    assert all(row["status"] == "ok" for row in rows)
