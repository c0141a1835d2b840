"""Bulk & Cut on the demo paper task (Flowers-17 16px): the morphisms keep a trained network's function, the cut
keeps the parent's weights of the units it keeps, and a short search is recorded as a run whose rows are the
method's own measurements (parameters as torch counts them, validation accuracy recomputed here)."""

from __future__ import annotations

import copy
import json
import math
from pathlib import Path

import numpy as np
import pytest
import torch
from torch import nn

from baselines.oneshot.bulk_and_cut import (Settings, _batch_loss, deepen, describe, hidden_cells, prune, remap_units,
                                            search, widen)
from suite.metadata import load_metadata
from suite.oneshot import Found, record_oneshot
from suite.results_format import read_run
from suite.spec import Budget
from tasks.live.paper import PaperCNNTask

SHARED_DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data"
WITH_NORM = dict(n_conv_l=2, n_conv_0=16, n_conv_1=24, n_fc_l=2, n_fc_0=20, n_fc_1=12, kernel_size=3, lr_init=1e-3,
                 batch_norm=True, batch_size=64, global_avg_pooling=False)
POOLED = dict(n_conv_l=1, n_conv_0=16, n_fc_l=1, n_fc_0=20, kernel_size=5, lr_init=1e-3, batch_norm=False,
              batch_size=64, global_avg_pooling=True)


@pytest.fixture(scope="module")
def task() -> PaperCNNTask:
    folder = SHARED_DATA / "flowers17-16px"
    if not folder.is_dir():
        pytest.skip(f"{folder} is absent (the paper's Flowers-17 arrays, outside the repository)")
    return PaperCNNTask("flowers17", data_dir=folder, device="cpu", demo=True)


@pytest.fixture(scope="module")
def trained(task: PaperCNNTask) -> dict[str, nn.Sequential]:
    """Both networks after one epoch of the task's training (batch norm statistics are then not the defaults)."""
    training = task.training()
    models = {}
    for name, config in (("norm", WITH_NORM), ("pooled", POOLED)):
        models[name] = training.new_module(config, seed=0)
        training.train(models[name], 1, 3e-3, 85, seed=1)
    return models


def logits(model: nn.Module, x: np.ndarray) -> torch.Tensor:
    model.eval()
    with torch.no_grad():
        return model(torch.from_numpy(x))


@pytest.mark.parametrize("name", ["norm", "pooled"])
def test_deepen_and_widen_keep_the_function_on_real_images(task: PaperCNNTask, trained: dict[str, nn.Sequential],
                                                           name: str) -> None:
    parent = trained[name]
    x = task.data.x_val
    reference = logits(parent, x)
    rng = np.random.default_rng(0)
    parent_params = sum(p.numel() for p in parent.parameters())
    for cell in hidden_cells(parent):
        layer = list(parent)[cell.index]
        width = layer.weight.shape[0]
        deeper = deepen(parent, cell)
        assert torch.allclose(logits(deeper, x), reference, rtol=0, atol=1e-5)
        # by hand: an identity conv (k*k*w*w + w) and its batch norm (2w), or an identity linear (w*w + w)
        added = (layer.kernel_size[0] ** 2 * width**2 + width + (2 * width if cell.norm is not None else 0)
                 if cell.kind == "conv" else width**2 + width)
        assert sum(p.numel() for p in deeper.parameters()) == parent_params + added
        wider = widen(parent, cell, 5, rng)
        assert list(wider)[cell.index].weight.shape[0] == width + 5
        assert torch.allclose(logits(wider, x), reference, rtol=0, atol=1e-5)
    assert logits(parent, x).equal(reference)  # the morphs work on copies


def test_the_cut_drops_low_norm_units_and_keeps_the_rest_of_the_parent(trained: dict[str, nn.Sequential]) -> None:
    parent = trained["norm"]
    amounts = {"head": 0.05, "linear": 0.075, "conv": 0.10}
    child = prune(parent, amounts, np.random.default_rng(3))
    # conv 16 -> 16 - int(1.6), conv 24 -> 24 - int(1.8) (read by a linear layer), fc 20 -> 20 - int(1.5),
    # fc 12 -> 12 - int(0.6) (read by the output layer)
    assert describe(child) == "conv3x3-15 bn maxpool conv3x3-23 bn maxpool flatten fc-19 fc-12 fc-17"
    first, kept = list(parent)[0], list(child)[0]
    # the one dropped channel is among the two whose weights in the next conv have the lowest L1 norm
    norms = list(parent)[4].weight.detach().abs().sum(dim=(0, 2, 3))
    gone = [c for c in range(16) if not any(torch.equal(first.weight[c], w) for w in kept.weight)]
    assert len(gone) == 1 and gone[0] in torch.argsort(norms)[:2].tolist()
    survivors = [c for c in range(16) if c not in gone]
    assert torch.equal(kept.weight, first.weight[survivors]) and torch.equal(list(child)[2].running_mean,
                                                                            list(parent)[2].running_mean[survivors])
    # keeping every unit (share 1) is the same network
    all_units = remap_units(parent, hidden_cells(parent)[0], np.arange(16), np.ones(16))
    x = torch.rand(8, 3, 16, 16)
    assert torch.equal(logits(all_units, x.numpy()), logits(parent, x.numpy()))


def test_a_cut_child_learns_its_parent_by_distillation(task: PaperCNNTask, trained: dict[str, nn.Sequential]) -> None:
    # without batch norm, whose running statistics would differ between a teacher in evaluation mode and a student
    parent = trained["pooled"]
    child = prune(parent, {"head": 0.3, "linear": 0.3, "conv": 0.3}, np.random.default_rng(0))
    labelled = copy.deepcopy(child)
    x = task.data.x_train

    def distance(model: nn.Module) -> float:
        return float(torch.nn.functional.mse_loss(logits(model, x), logits(parent, x)))

    before = distance(child)
    training = task.training()
    training.train(child, 2, 1e-3, 85, seed=2, loss=_batch_loss(17, parent, augment=False, seed=2))
    training.train(labelled, 2, 1e-3, 85, seed=2)  # the same child on the labels instead
    assert distance(child) < before / 2 and distance(child) < distance(labelled) / 2
    # a child grown from the parent starts with the parent's validation accuracy (its weights, its function)
    assert training.validation_accuracy(deepen(parent, hidden_cells(parent)[0])) == training.validation_accuracy(parent)


@pytest.mark.slow
def test_one_seed_one_search(task: PaperCNNTask) -> None:
    settings = Settings(epochs=1, max_networks=(1, 1, 1), widen_probability=0.5)
    runs = [search(task.training(), task.space, 7, settings) for _ in range(2)]
    assert [(t.config, t.result.objectives) for t in runs[0]] == [(t.config, t.result.objectives) for t in runs[1]]


def test_refusals() -> None:
    with pytest.raises(ValueError, match="GELU is not one of"):
        hidden_cells(nn.Sequential(nn.Linear(2, 2), nn.GELU(), nn.Linear(2, 2)))
    with pytest.raises(ValueError, match="give time_budget_s or max_networks"):
        Settings(epochs=1)
    with pytest.raises(ValueError, match="budget_split"):
        Settings(epochs=1, max_networks=(1, 1, 1), budget_split=(0.5, 0.5, 0.5))


@pytest.mark.slow
def test_a_short_search_is_recorded_as_its_own_measurements(task: PaperCNNTask, tmp_path: Path) -> None:
    training = task.training()
    kept: dict[int, nn.Module] = {}
    settings = Settings(epochs=1, max_networks=(2, 2, 2), widen_probability=0.5)
    random_state = torch.random.get_rng_state()
    found = search(training, task.space, 4, settings,
                   on_network=lambda item, model: kept.setdefault(item.result.info["network"], copy.deepcopy(model)))
    assert torch.equal(torch.random.get_rng_state(), random_state)  # the caller's random stream is its own
    phases = [item.result.info["phase"] for item in found]
    assert phases == ["initial"] * 2 + ["bulk-up"] * 2 + ["slim-down"] * 2
    children = [item for item in found if item.result.info["phase"] != "initial"]
    assert all(item.result.info["parent"] < item.result.info["network"] for item in children)
    folder = record_oneshot(tmp_path, "demo", "bulk_and_cut", settings.options(), task, 4,
                            [Found(item.config, item.available_s, {}, item.result) for item in found],
                            {"method": "bulk_and_cut", "cost": "wall-clock seconds of the search"}, Budget(seconds=1e6))
    rows = read_run(folder)[1].to_dict("records")
    assert len(rows) == 6 and all(row["status"] == "ok" for row in rows)
    x, y = task.data.x_val, task.data.y_val
    for row in rows:
        info = json.loads(row["info"])
        model = kept[info["network"]]
        # the exact count, by torch, and the row's cost on the search's clock
        assert row["objective.log10_params"] == math.log10(sum(p.numel() for p in model.parameters()))
        assert row["end"] - row["start"] == pytest.approx(row["cost_s"]) and row["eval_seed"] == info["seed"]
        assert json.loads(row["config"])["architecture"] == describe(model)
    # one network's validation accuracy recomputed here, by numpy on the logits, equals its row
    row = rows[-1]
    predicted = logits(kept[json.loads(row["info"])["network"]], x).numpy().argmax(axis=1)
    assert row["objective.neg_val_accuracy_pct"] == pytest.approx(-100.0 * float(np.mean(predicted == y)), abs=1e-12)
    metadata = load_metadata(folder)
    assert metadata.oneshot["method"] == "bulk_and_cut" and metadata.oneshot["architectures"] == 6
    assert metadata.oneshot["search_cost_s"] == pytest.approx(max(item.available_s for item in found))
    assert metadata.baseline.options["max_networks"] == [2, 2, 2]


def test_measured_rows_keep_the_search_clock_and_refuse_what_does_not_fit(task: PaperCNNTask, tmp_path: Path) -> None:
    from tasks.base import Result

    def measured(seconds: float, info: dict) -> Result:
        return Result({"neg_val_accuracy_pct": -10.0, "log10_params": 4.0}, seconds, info)

    found = [Found({"architecture": "a"}, 4.0, {}, measured(3.0, {"seed": 11})),
             Found({"architecture": "b"}, 9.0, {}, measured(2.0, {"seed": 12}))]  # ends after the budget
    rows = read_run(record_oneshot(tmp_path, "e", "bulk_and_cut", {}, task, 0, found, {}, Budget(seconds=8.0)))[1]
    assert rows[["start", "end", "cost_s", "eval_seed"]].values.tolist() == [[1.0, 4.0, 3.0, 11]]
    with pytest.raises(ValueError, match=r"info\['seed'\]"):
        record_oneshot(tmp_path, "f", "bulk_and_cut", {}, task, 0, [Found({}, 4.0, {}, measured(3.0, {}))], {},
                       Budget(seconds=8.0))
    with pytest.raises(ValueError, match="0 <= cost_s <= available_s"):
        record_oneshot(tmp_path, "g", "bulk_and_cut", {}, task, 0, [Found({}, 1.0, {}, measured(3.0, {"seed": 1}))],
                       {}, Budget(seconds=8.0))
    with pytest.raises(ValueError, match="either every architecture is measured"):
        record_oneshot(tmp_path, "h", "bulk_and_cut", {}, task, 0,
                       [found[0], Found({"architecture": "c"}, 5.0)], {}, Budget(seconds=8.0))
