"""MS-EHVI: a GP only for the objectives that need training, the known ones exact, EHVI checked by quadrature."""

from __future__ import annotations

import moocore
import numpy as np
import pytest
import torch

from suite.lifecycle import make_baseline
from tasks import make_task
from tasks.base import Task

TASK = "hpobench-mlp-kc1"  # error (trained) and n_parameters (known)


def _told(task: Task, known: bool, evaluations: int = 12, seed: int = 0):  # type: ignore[no-untyped-def]
    """An MS-EHVI built as the suite builds it (with the task's ``known``, or without), told ``evaluations``."""
    baseline = make_baseline("ms_ehvi", task, seed, {"n_initial_trials": evaluations})
    if not known:
        baseline.known = None
    for _ in range(evaluations):
        trial = baseline.ask()
        baseline.tell(trial, task.evaluate(trial.config, seed=trial.id))
    return baseline


def _inputs(baseline, configs: list[dict]) -> torch.Tensor:  # type: ignore[no-untyped-def]
    encoded = np.array([baseline._encoding.encode(c) for c in configs])
    return torch.tensor(np.hstack([encoded, baseline.known_values(configs)]), dtype=torch.double).unsqueeze(-2)


def test_the_gp_models_only_the_trained_objective_and_the_known_one_is_exact() -> None:
    task = make_task(TASK)
    baseline = _told(task, known=True)
    assert baseline.known_columns() == [1]
    acquisition, _ = baseline.acquisition()
    gp, exact = acquisition.model.models
    assert gp.num_outputs == 1 and exact.num_outputs == 1
    assert gp.train_targets.shape == (12,)  # one output: the error; n_parameters was never a GP's target
    configs = [task.table.config(row) for row in (0, 999, 12345, 29999)]
    posterior = acquisition.model.posterior(_inputs(baseline, configs).squeeze(-2))
    mean, variance = posterior.mean.detach().numpy(), posterior.variance.detach().numpy()
    counts = np.array([task.known_objectives(c)["n_parameters"] for c in configs])
    bounds = task.objectives[1]
    np.testing.assert_allclose(-mean[:, 1] * (bounds.upper - bounds.lower) + bounds.lower, counts, rtol=1e-12)
    assert (variance[:, 1] == 0).all() and (variance[:, 0] > 0).all()
    # without ``known`` both objectives are modelled, and the parameter count is uncertain
    unknowing = _told(task, known=False)
    plain, _ = unknowing.acquisition()
    (both,) = plain.model.models
    assert both.num_outputs == 2
    assert (plain.model.posterior(_inputs(unknowing, configs).squeeze(-2)).variance[:, 1] > 0).all()


def _ehvi_by_quadrature(front: np.ndarray, mean: float, std: float, known: float, reference: float) -> float:
    """EHVI of a point (y ~ N(mean, std), known) in a minimisation problem: Gauss-Hermite quadrature over y of
    the hypervolume improvement computed by moocore; independent of BoTorch's box decomposition and samples."""
    nodes, weights = np.polynomial.hermite_e.hermegauss(80)
    base = moocore.hypervolume(front, ref=[reference, reference])
    gains = [moocore.hypervolume(np.vstack([front, [mean + std * z, known]]), ref=[reference, reference]) - base
             for z in nodes]
    return float(np.dot(weights, gains) / np.sqrt(2 * np.pi))


def test_ehvi_matches_an_independent_quadrature() -> None:
    task = make_task(TASK)
    baseline = _told(task, known=True)
    baseline._options["mc_samples"] = 4096  # close to the exact expectation, so the comparison can be tight
    acquisition, _ = baseline.acquisition()
    rng = np.random.default_rng(1)
    configs = [task.table.config(int(row)) for row in rng.choice(30000, size=40, replace=False)]
    inputs = _inputs(baseline, configs)
    with torch.no_grad():
        found = acquisition(inputs).numpy()
        posterior = acquisition.model.models[0].posterior(inputs.squeeze(-2))
    mean, std = -posterior.mean[:, 0].numpy(), posterior.variance[:, 0].sqrt().numpy()  # minimised units
    known = baseline.known_values(configs)[:, 0]
    outputs = np.array(baseline._outputs)
    front = outputs[moocore.is_nondominated(outputs)]
    expected = np.array([_ehvi_by_quadrature(front, m, s, k, 1.1) for m, s, k in zip(mean, std, known)])
    assert (expected > 1e-4).sum() >= 5, "the case must have candidates that improve"
    np.testing.assert_allclose(found, expected, rtol=0.03, atol=1e-5)


def test_a_known_objective_the_task_does_not_have_is_refused() -> None:
    task = make_task(TASK)
    baseline = make_baseline("ms_ehvi", task, 0, {"n_initial_trials": 3})
    baseline.known = lambda config: {"flops": 1.0}
    for _ in range(3):
        trial = baseline.ask()
        baseline.tell(trial, task.evaluate(trial.config, seed=trial.id))
    with pytest.raises(ValueError, match=r"known objectives \['flops'\] are not among its objectives"):
        baseline.ask()


@pytest.mark.parametrize("max_pending, kept", [(None, 5), (2, 2), (20, 9), (0, 0)])
def test_the_acquisition_is_joint_with_at_most_max_pending_of_the_latest_pending_trials(
        max_pending: int | None, kept: int) -> None:
    # qEHVI's cost doubles with each pending point (16 workers ran out of memory): only the latest count
    task = make_task(TASK)
    options = {"n_initial_trials": 4} | ({} if max_pending is None else {"max_pending": max_pending})
    baseline = make_baseline("ms_ehvi", task, 0, options)
    for _ in range(4):
        trial = baseline.ask()
        baseline.tell(trial, task.evaluate(trial.config, seed=trial.id))
    asked = [baseline.ask() for _ in range(9)]  # nine workers busy: nothing told back
    acquisition, _ = baseline.acquisition()
    latest = [t.config for t in asked[len(asked) - kept:]]
    if kept:
        assert torch.equal(acquisition.X_pending, _inputs(baseline, latest).squeeze(-2))
    else:
        assert acquisition.X_pending is None
    baseline.tell(asked[-1], task.evaluate(asked[-1].config, seed=asked[-1].id))
    again, _ = baseline.acquisition()  # a told trial is no longer pending; the next latest takes its place
    still = asked[:-1]
    remaining = [t.config for t in still[max(0, len(still) - kept):]]
    if kept:
        assert torch.equal(again.X_pending, _inputs(baseline, remaining).squeeze(-2))
    else:
        assert again.X_pending is None
