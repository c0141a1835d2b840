"""MOTPE's sampler (baselines/_motpe_sampler.py) makes the trials Optuna's unmodified ``TPESampler`` makes.

The reference is Optuna's own sampler run side by side in the same wrapper, so the memos are checked against
the computation they replace, not against recorded output of themselves. The private Optuna code the sampler
copies or calls is pinned here: an Optuna upgrade that changes it fails with a line that says what to re-check.
"""

from __future__ import annotations

import hashlib
import inspect
import subprocess
import sys
from pathlib import Path
from typing import Any

import optuna
import pytest
from optuna.samplers._tpe import parzen_estimator
from optuna.samplers._tpe import sampler as tpe

from baselines import BASELINES
from baselines._motpe_sampler import MOTPESampler
from baselines.motpe import MOTPE
from suite.loops import evaluation_seed
from tasks import make_task
from tasks.base import Config, Task, Trial
from asking import asked_configs
from toy_tasks import ToyTask


class PlainMOTPE(MOTPE):
    """MOTPE with Optuna's unmodified sampler: the reference."""

    SAMPLER = optuna.samplers.TPESampler


def configs(cls: type[MOTPE], task: Task, seed: int, n: int, pending: int, replay: list[Trial],
            **options: Any) -> list[Config]:
    """The configurations of ``n`` trials, asked ``pending`` at a time (asynchronous workers), after ``replay``."""
    baseline = cls(task.space, task.objectives, task.fidelity, seed, **options)
    for trial in replay:
        baseline.tell(trial, task.evaluate(trial.config, trial.fidelity, evaluation_seed(seed, trial.id)))
    return asked_configs(baseline, task, seed, n, pending)


def random_trials(task: Task, seed: int, n: int) -> list[Trial]:
    """``n`` trials of random search, to replay into MOTPE as a resumed run would."""
    baseline = BASELINES.get("random_search")(task.space, task.objectives, task.fidelity, seed)
    return [baseline.ask() for _ in range(n)]


# the default job's three tables, the toy space (every parameter type, nested conditions, failing evaluations),
# pending trials (constant liar), replayed trials, and the options that take other paths through the sampler
CASES = [
    ("fcnet-naval", 0, 50, 1, 0, {}),
    ("hpobench-mlp-vehicle", 1, 50, 3, 0, {}),
    ("nb201-cifar10", 2, 50, 4, 12, {}),
    ("toy", 0, 50, 3, 0, {}),
    ("toy", 1, 40, 2, 8, {"multivariate": True}),
    ("toy", 2, 40, 3, 0, {"constant_liar": False}),
]


@pytest.mark.parametrize("task_name, seed, n, pending, n_replayed, options", CASES)
def test_same_trials_as_optunas_own_sampler(task_name: str, seed: int, n: int, pending: int, n_replayed: int,
                                            options: dict[str, Any]) -> None:
    task = ToyTask(failures=True) if task_name == "toy" else make_task(task_name)
    replay = random_trials(task, seed + 100, n_replayed)
    fast = configs(MOTPE, task, seed, n, pending, replay, **options)
    plain = configs(PlainMOTPE, task, seed, n, pending, replay, **options)
    assert len(fast) == n
    assert fast == plain


def test_a_sampler_handed_a_second_study_forgets_the_first() -> None:
    # the memos are keyed by trial numbers, which a second study repeats
    def objective(trial: optuna.Trial) -> tuple[float, float]:
        x = trial.suggest_float("x", 0.0, 1.0)
        k = trial.suggest_int("k", 0, 5)
        c = trial.suggest_categorical("c", ["a", "b"])
        return x + k, (1.0 - x) * (2 if c == "a" else 1)

    def params(sampler: optuna.samplers.BaseSampler) -> list[list[dict[str, Any]]]:
        out = []
        for _ in range(2):
            study = optuna.create_study(directions=["minimize", "minimize"], sampler=sampler)
            study.optimize(objective, n_trials=25)
            out.append([t.params for t in study.trials])
        return out

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    fast = params(MOTPESampler(seed=3, n_startup_trials=5))
    assert fast == params(optuna.samplers.TPESampler(seed=3, n_startup_trials=5))
    assert fast[0] != fast[1]  # the second study's trials are not a replay of the first's


#: sha256 of each pinned function's source in Optuna 5.0.0
SOURCE_DIGESTS = {
    "optuna.samplers._tpe.sampler.TPESampler._sample":
        "412acdfded738af3dc23f7b7ed07349bb4ba396556a8adda419281688e8b7c2c",
    "optuna.samplers._tpe.sampler.TPESampler._get_internal_repr":
        "7a2ee7a5ed8b0184666412bcc415055af9e16fd37b6fed2aff88e25aeff6c4b5",
    "optuna.samplers._tpe.sampler.TPESampler._get_params":
        "8b5a1702f0384b27c3db5ddd4e3d3595319cd891986524f245641fd2f25e597d",
    "optuna.samplers._tpe.sampler._split_trials":
        "b0395b33672605d366b933906ace72cacf10eda217284ccc5704c11fd701c4bf",
    "optuna.samplers._tpe.parzen_estimator._ParzenEstimator._call_weights_func":
        "eef8c9aa25c7eb7d76136f59676dc1c12c92cf780d7c6a9d95f8807e17235491",
    "optuna.samplers._tpe.sampler.default_weights":
        "20a453acb875517ea1b551909360c56d3f82fd03f5b4bfd21572b31bc46c109e",
}


def _source_digest(function: Any) -> str:
    return hashlib.sha256(inspect.getsource(function).encode()).hexdigest()


def test_the_optuna_code_the_sampler_relies_on_is_unchanged() -> None:
    pinned = {
        # copied line for line into MOTPESampler._sample
        "optuna.samplers._tpe.sampler.TPESampler._sample": tpe.TPESampler._sample,
        # overridden (same result for one parameter) and called for the others
        "optuna.samplers._tpe.sampler.TPESampler._get_internal_repr": tpe.TPESampler._get_internal_repr,
        "optuna.samplers._tpe.sampler.TPESampler._get_params": tpe.TPESampler._get_params,
        # called once per trial instead of once per parameter: the memo's key must determine its result
        "optuna.samplers._tpe.sampler._split_trials": tpe._split_trials,
        # called with a memo of default_weights
        "optuna.samplers._tpe.parzen_estimator._ParzenEstimator._call_weights_func":
            parzen_estimator._ParzenEstimator._call_weights_func,
        "optuna.samplers._tpe.sampler.default_weights": tpe.default_weights,
    }
    changed = [name for name, function in pinned.items() if _source_digest(function) != SOURCE_DIGESTS[name]]
    assert not changed, (
        f"Optuna {optuna.__version__} changed {', '.join(changed)}: baselines/_motpe_sampler.py copies or relies "
        "on them (see its docstring); re-check it against the new code, rerun this module, then update "
        "SOURCE_DIGESTS"
    )
    parameters = list(inspect.signature(tpe.TPESampler._sample).parameters)
    assert parameters == list(inspect.signature(MOTPESampler._sample).parameters) == [
        "self", "study", "trial", "search_space"]
    assert list(inspect.signature(tpe.TPESampler._get_internal_repr).parameters) == [
        "self", "trials", "search_space", "study"]
    sampler = MOTPESampler(seed=0)
    assert sampler._parzen_estimator_parameters.weights is not tpe.default_weights  # the memo is in place
    assert sampler._gamma is None and sampler._constant_liar and sampler._n_ei_candidates == 24


def test_importing_motpe_imports_neither_optuna_nor_configspace() -> None:
    code = ("import sys, baselines.motpe, baselines._optuna; "
            "print(sorted(m for m in ('optuna', 'ConfigSpace', 'scipy') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         cwd=Path(__file__).resolve().parents[2], timeout=300)
    assert out.stdout.strip() == "[]"
