"""LCBench surrogate tasks: the input encoding against YAHPO Gym's own outputs, the cost rules, registration."""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any, Callable

import numpy as np
import pytest

import tabular_data
from suite.lifecycle import make_baseline
from suite.loops import simulate
from suite.spec import Budget
from tasks.base import TaskDataError
from tasks.surrogates import LCBENCH_ENV, LCBENCH_INSTANCES, register_surrogate_tasks
from tasks.surrogates import lcbench
from tasks.surrogates.lcbench import EPOCHS, NAMES, LCBenchTask, surrogate

FOLDER = "yahpo-lcbench"
GOLDEN = "golden-yahpo-gym-1.0.2.json"


@pytest.fixture
def folder(shared_data: Callable[[str], Path]) -> Path:
    return shared_data(FOLDER)


def _golden(folder: Path) -> dict[str, Any]:
    return json.loads((folder / GOLDEN).read_text())


def _config(row: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in row["config"].items() if k not in ("OpenML_task_id", "epoch")}


def _task(instance: str, folder: Path, **options: Any) -> LCBenchTask:
    """A task with the model's hash but not its shipped record (the evaluations do not depend on it)."""
    return lcbench.unbound_task(instance, folder, **options)


@functools.lru_cache(maxsize=None)
def _session(folder: Path) -> Any:
    import onnxruntime

    return onnxruntime.InferenceSession(str(folder / "model.onnx"), providers=["CPUExecutionProvider"])


def _row_by_row_times(folder: Path, instance: str, config: dict[str, Any]) -> np.ndarray:
    """``time`` at epochs 1..52, each asked of a session of our own as one row, as the reference does."""
    session = _session(folder)
    code = json.loads((folder / "encoding.json").read_text())["OpenML_task_id"][instance]
    order = ["batch_size", "learning_rate", "momentum", "weight_decay", "num_layers", "max_units", "max_dropout"]
    x_cat = np.array([[code]], dtype=np.int32)
    rows = [np.array([[e, *(config[k] for k in order)]], dtype=np.float32) for e in range(1, EPOCHS + 1)]
    return np.array([session.run(None, {"x_cat": x_cat, "x_cont": row})[0][0, 0] for row in rows])


def test_all_golden_rows_of_the_reference_implementation_match(folder: Path) -> None:
    """200 (configuration, epoch) rows computed by yahpo-gym 1.0.2: every target within 1e-5 relative,
    through the model's path and through a task's evaluation (error = 1 - val_accuracy / 100)."""
    golden = _golden(folder)
    assert golden["targets"] == list(lcbench.TARGETS) and len(golden["rows"]) == 200
    model = surrogate(str(folder))
    tasks = {instance: _task(instance, folder) for instance in golden["instances"]}
    for row in golden["rows"]:
        instance, epoch = row["config"]["OpenML_task_id"], row["config"]["epoch"]
        expected = np.array([row["targets"][t] for t in lcbench.TARGETS])
        values = tuple(float(row["config"][name]) for name in NAMES)
        np.testing.assert_allclose(model.point(model.code(instance), values, epoch), expected, rtol=1e-5)
        result = tasks[instance].evaluate(_config(row), epoch)
        assert result.objectives["error"] == pytest.approx(1 - row["targets"]["val_accuracy"] / 100, rel=1e-5)
        assert result.info["surrogate_time_s"] == pytest.approx(row["targets"]["time"], rel=1e-5)


def test_the_batched_path_is_the_model_too_but_not_bit_equal(folder: Path) -> None:
    """One batch of all 200 rows: within 1e-3 of the reference (the CPU kernels for 4+ rows sum in
    another order), which is why reported values come from single rows and batches only pick candidates."""
    golden = _golden(folder)
    model = surrogate(str(folder))
    for instance in golden["instances"]:
        rows = [r for r in golden["rows"] if r["config"]["OpenML_task_id"] == instance]
        configs = np.array([[r["config"][name] for name in NAMES] for r in rows], dtype=float)
        out = model.predict(model.code(instance), configs, np.array([r["config"]["epoch"] for r in rows]))
        expected = np.array([[r["targets"][t] for t in lcbench.TARGETS] for r in rows])
        np.testing.assert_allclose(out, expected, rtol=1e-3)
        assert np.abs(out[:, 0] / expected[:, 0] - 1).max() < lcbench.TIME_MARGIN / 2


def test_space_and_instances_are_yahpo_gyms(folder: Path) -> None:
    space = json.loads((folder / "config_space.json").read_text())
    by_name = {h["name"]: h for h in space["hyperparameters"]}
    assert tuple(by_name["OpenML_task_id"]["choices"]) == LCBENCH_INSTANCES
    assert set(by_name) == {"OpenML_task_id", "epoch", *NAMES}
    assert (by_name["epoch"]["lower"], by_name["epoch"]["upper"]) == (1, EPOCHS)
    for p in lcbench.PARAMETERS:
        given = by_name[p.name]
        assert (given["type"] == "uniform_int", given["log"]) == (p.integer, p.log)
        # the json holds exp(log(bound)) with rounding error; our bounds are the R domain's round numbers
        assert given["lower"] == pytest.approx(p.lower, rel=1e-12, abs=1e-12)
        assert given["upper"] == pytest.approx(p.upper, rel=1e-12)


def test_training_time_is_the_running_maximum_of_the_surrogates_time(folder: Path) -> None:
    """A golden configuration whose surrogate time falls from 20.2 s at epoch 1 to 8.6 s at epoch 5: the
    task's training time to each epoch is the running maximum of the row-by-row times (computed here with
    a session of our own), so it never falls; the told objective is its log10."""
    row = _golden(folder)["rows"][0]
    instance, config = row["config"]["OpenML_task_id"], _config(row)
    times = _row_by_row_times(folder, instance, config)
    assert times[0] > times[4]  # the data is non-monotone here
    task = _task(instance, folder)
    costs = np.array([task.evaluate(config, e).cost_s for e in range(1, EPOCHS + 1)])
    np.testing.assert_allclose(costs, np.maximum.accumulate(times), rtol=1e-6)
    assert (np.diff(costs) >= 0).all()
    assert task.evaluate(config, 5).objectives["log10_train_time"] == pytest.approx(np.log10(times[0]), rel=1e-6)
    # the same values whatever was asked before (the batches that filter the epochs differ in length)
    fresh = _task(instance, folder)
    surrogate(str(folder))._curves.clear()
    assert fresh.evaluate(config, 40).cost_s == costs[39] and fresh.evaluate(config, 3).cost_s == costs[2]


def test_promotion_charges_the_whole_time_by_default_and_the_difference_from_a_checkpoint(folder: Path) -> None:
    row = _golden(folder)["rows"][0]
    instance, config = row["config"]["OpenML_task_id"], _config(row)
    train = np.maximum.accumulate(_row_by_row_times(folder, instance, config))
    scratch = _task(instance, folder)
    charged = [scratch.evaluate(config, e).cost_s for e in (13, 52, 52)]
    assert charged == pytest.approx([train[12], train[51], train[51]])
    checkpoint = _task(instance, folder, promotion="checkpoint")
    results = [checkpoint.evaluate(config, e) for e in (13, 52, 26, 52)]
    assert [r.cost_s for r in results] == pytest.approx([train[12], train[51] - train[12], 0.0, 0.0])
    assert [r.info["checkpoint_epoch"] for r in results] == [0, 13, 52, 52]
    # the objectives do not depend on how the evaluation was charged
    assert results[1].objectives == scratch.evaluate(config, 52).objectives
    assert scratch.describe()["promotion"] == "scratch" and checkpoint.describe()["promotion"] == "checkpoint"


def test_bad_inputs_are_refused_with_one_line(folder: Path, tmp_path: Path) -> None:
    row = _golden(folder)["rows"][0]
    task = _task("167152", folder)
    with pytest.raises(ValueError, match="whole number"):
        task.evaluate(_config(row), 2.5)
    with pytest.raises(ValueError, match="outside"):
        task.evaluate(_config(row), 53)
    with pytest.raises(ValueError, match="invalid configuration"):
        task.evaluate({**_config(row), "num_layers": 6}, 1)
    with pytest.raises(ValueError, match="invalid configuration"):
        task.evaluate({**_config(row), "batch_size": 64.5}, 1)
    with pytest.raises(ValueError, match="unknown LCBench instance"):
        LCBenchTask("167083", folder)  # in encoding.json, but not one of the scenario's 34
    with pytest.raises(TaskDataError, match="lacks model.onnx, encoding.json"):
        LCBenchTask("3945", tmp_path).evaluate(_config(row), 1)
    other = tmp_path / "other"
    other.mkdir()
    (other / "model.onnx").write_bytes((folder / "model.onnx").read_bytes())
    (other / "encoding.json").write_text((folder / "encoding.json").read_text().replace('"3945": 34', '"3945": 33'))
    with pytest.raises(TaskDataError, match="not the one its reference record was computed from"):
        LCBenchTask("3945", other).evaluate(_config(row), 1)


def test_tasks_are_registered_only_with_the_folder_and_without_loading_the_model(
        folder: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    added: dict[str, Callable[[], Any]] = {}
    monkeypatch.delenv(LCBENCH_ENV, raising=False)
    register_surrogate_tasks(added.__setitem__)
    assert added == {}
    monkeypatch.setenv(LCBENCH_ENV, str(folder))
    register_surrogate_tasks(added.__setitem__)
    assert sorted(added) == sorted(f"lcbench-{i}" for i in LCBENCH_INSTANCES)
    surrogate.cache_clear()
    task = added["lcbench-3945"]()
    assert surrogate.cache_info().currsize == 0  # built and described without the model
    assert task.describe()["data_hash"] == task.reference.data_sha256 and task.reference.front_kind == "best-known"
    assert task.evaluate({"batch_size": 64, "learning_rate": 0.01, "max_dropout": 0.1, "max_units": 256,
                          "momentum": 0.9, "num_layers": 2, "weight_decay": 1e-4}, 52).status == "ok"
    assert surrogate.cache_info().currsize == 1


@pytest.mark.slow
def test_the_best_known_front_is_the_front_of_the_sample_computed_row_by_row(folder: Path) -> None:
    """``best_known`` on 64 configurations x 52 epochs against every point computed here one row at a time
    (a session of our own, the running maximum by numpy, the front by moocore): the same front, while
    ``best_known`` computed only its candidates row by row."""
    import moocore

    task = lcbench.unbound_task("3945", folder)
    record = lcbench.best_known(task, n=64, seed=5)
    points = []
    for row in lcbench.sample_configs(64, seed=5):
        config = dict(zip(NAMES, lcbench._typed(row)))
        times = np.maximum.accumulate(_row_by_row_times(folder, "3945", config))
        errors = [1 - float(task.surrogate.point(task._code, tuple(map(float, row)), e)[1]) / 100
                  for e in range(1, EPOCHS + 1)]
        points += list(zip(errors, np.log10(times)))
    points = np.array(points)
    front = np.unique(points[moocore.is_nondominated(points, keep_weakly=False)], axis=0)
    np.testing.assert_allclose(np.array(record.front), front, rtol=1e-6)
    assert record.front_kind == "best-known" and record.data_sha256 == task.surrogate.sha256
    lower = np.array([o.lower for o in record.objectives])
    upper = np.array([o.upper for o in record.objectives])
    assert (lower <= points.min(axis=0)).all() and (points.max(axis=0) <= upper).all()
    assert (upper - points.max(axis=0) < 1e-3).all() and (points.min(axis=0) - lower < 1e-3).all()


def test_the_check_and_write_tool_refuses_bad_arguments_in_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        lcbench.main(["lcbench-167083"])
    assert exit_.value.code == 2
    assert capsys.readouterr().err.count("\n") == 1


def test_every_shipped_record_is_a_best_known_front_of_one_model() -> None:
    """34 shipped files: best-known fronts (non-dominated, inside the bounds), the same model hash."""
    import moocore

    hashes = set()
    for instance in LCBENCH_INSTANCES:
        data = json.loads((tabular_data.FOLDER / f"lcbench-{instance}.json").read_text())
        assert data["front_kind"] == "best-known" and data["version"] == lcbench.VERSION
        assert [o["name"] for o in data["objectives"]] == [name for name, _ in lcbench.OBJECTIVES]
        front = np.array(data["front"])
        lower = np.array([o["lower"] for o in data["objectives"]])
        upper = np.array([o["upper"] for o in data["objectives"]])
        assert len(front) >= 2 and moocore.is_nondominated(front).all()
        assert ((front >= lower) & (front <= upper)).all()
        hashes.add(data["data_sha256"])
    assert len(hashes) == 1


def test_a_run_of_random_search_and_of_mo_bohb_through_the_suites_loop(folder: Path) -> None:
    """Deterministic runs on the simulated clock: MO-BOHB asks several epochs and is charged for each."""
    for name, budget in (("random_search", Budget(evaluations=30)), ("mo_bohb", Budget(evaluations=60))):
        runs = []
        for _ in range(2):
            task = _task("3945", folder)
            rows: list[dict[str, Any]] = []
            simulate(make_baseline(name, task, 3, {}), task, 3, budget, 2, rows.append)
            runs.append(rows)
        assert runs[0] == runs[1] and len(runs[0]) == budget.evaluations
        assert all(r["status"] == "ok" for r in runs[0])
        epochs = {json.loads(r["info"])["epoch"] for r in runs[0]}
        assert epochs == {EPOCHS} if name == "random_search" else len(epochs) > 1
        # each row ends its cost after it started: the clock is the surrogate's training time
        assert all(r["end"] - r["start"] == pytest.approx(r["cost_s"]) for r in runs[0])


def _hypervolume_2d(points: np.ndarray, reference: np.ndarray) -> float:
    """The area two-objective ``points`` dominate below ``reference``, by a sweep in plain Python."""
    area, lowest = 0.0, float(reference[1])
    for x, y in sorted(tuple(p) for p in points if p[0] < reference[0] and p[1] < reference[1]):
        if y < lowest:
            area, lowest = area + (reference[0] - x) * (lowest - y), y
    return area


def test_the_analysis_measures_regret_to_the_best_known_front_joined_with_the_runs(
        folder: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Runs made by the suite and read back from their files. The reference front is the shipped best-known
    one joined with the runs' points (named so): a run that passes the shipped front still has a regret,
    so two runs beyond it are told apart (the regret to the shipped front alone was clipped at 0)."""
    from analysis.aggregate import SHIPPED_AND_RUNS, indicator_curves, reference_fronts
    from analysis.io import load_experiment
    from suite.lifecycle import execute
    from suite.spec import RunSpec
    from tasks import TASKS

    monkeypatch.setitem(TASKS._entries, "lcbench-3945", lambda: LCBenchTask("3945", folder))
    for seed in (0, 1):
        execute(RunSpec("random_search", "lcbench-3945", seed, Budget(evaluations=20), experiment="lc"), tmp_path)
    runs = load_experiment(tmp_path / "lc")
    front = reference_fronts(runs)["lcbench-3945"]
    assert front.kind == SHIPPED_AND_RUNS
    curves = indicator_curves(runs)
    assert set(curves["front"]) == {SHIPPED_AND_RUNS} and (curves["regret"] >= 0).all()
    # a shipped best-known front that both runs pass: one point every evaluated point dominates
    shipped = json.loads((tabular_data.FOLDER / "lcbench-3945.json").read_text())
    weak = tmp_path / "weak"
    weak.mkdir()
    raw = np.vstack([run.values for run in runs])
    (weak / "lcbench-3945.json").write_text(json.dumps({**shipped, "front": [raw.max(axis=0).tolist()]}))
    curves = indicator_curves(runs, tabular_data=weak)
    final = curves.groupby("seed")["regret"].last()
    # independently: the union's area minus each run's, by the plain sweep
    reference_point = runs[0].reference_point
    union = _hypervolume_2d(np.vstack([run.normalised for run in runs]), reference_point)
    expected = {run.seed: union - _hypervolume_2d(run.normalised, reference_point) for run in runs}
    assert final.to_dict() == pytest.approx(expected, rel=1e-9, abs=1e-12)
    assert max(expected.values()) > 0  # one of the two runs is behind the other: told apart, not both 0
