"""GP-EHVI through Optuna's GPSampler: the GP proposes after the start-up trials, also with pending trials,
the acquisition options reach the sampler, and the GP works on the torch threads the option says.

``baselines.gp_ehvi`` is imported inside the tests, not at collection: importing it registers the baseline,
and it is kept out of the built-in set (too slow for the suite's every-baseline tests, docs/baselines.md).
"""

from __future__ import annotations

from typing import Any

from tasks import make_task

GP_KEY = "gp:relative_params:0"  # where GPSampler records the parameters its acquisition chose


def test_the_gp_proposes_after_the_startup_trials_also_with_pending_trials() -> None:
    from baselines.gp_ehvi import GPEHVI

    task = make_task("hpobench-mlp-vehicle")
    baseline = GPEHVI(task.space, task.objectives, task.fidelity, seed=0, n_startup_trials=4)
    first = [baseline.ask() for _ in range(4)]
    for trial in first:
        baseline.tell(trial, task.evaluate(trial.config, None, trial.id))
    pending = [baseline.ask() for _ in range(3)]  # the 2nd and 3rd are asked with trials pending (qLogEHVI)
    chosen = [t.system_attrs for t in baseline._study.trials]
    assert [GP_KEY in attrs for attrs in chosen] == [False] * 4 + [True] * 3
    assert len({tuple(sorted(t.config.items())) for t in pending}) == 3  # pending trials are not proposed again


def test_acquisition_options_reach_optunas_sampler() -> None:
    """Optuna 5.0 takes these as attributes only; the wrapper refuses an Optuna that lacks them."""
    from baselines.gp_ehvi import GPEHVI

    task = make_task("hpobench-mlp-vehicle")
    sampler = GPEHVI(task.space, task.objectives, None, seed=0, n_qmc_samples=128, n_preliminary_samples=2048,
                     n_local_search=10)._study.sampler
    assert (sampler._n_qmc_samples_ehvi, sampler._n_preliminary_samples, sampler._n_local_search) == (128, 2048, 10)


def test_the_gp_runs_on_the_optioned_torch_threads_and_the_callers_setting_is_restored() -> None:
    import torch
    from baselines.gp_ehvi import GPEHVI

    task = make_task("hpobench-mlp-vehicle")
    baseline = GPEHVI(task.space, task.objectives, None, seed=0, n_startup_trials=3, torch_threads=1)
    sampler = baseline._study.sampler
    threads_seen: list[int] = []
    sample_relative = sampler.sample_relative

    def recording(*args: Any, **kwargs: Any) -> Any:  # the real sampler, its thread count noted as it runs
        threads_seen.append(torch.get_num_threads())
        return sample_relative(*args, **kwargs)

    sampler.sample_relative = recording
    caller = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        for _ in range(5):
            trial = baseline.ask()
            baseline.tell(trial, task.evaluate(trial.config, None, trial.id))
        assert torch.get_num_threads() == 2
    finally:
        torch.set_num_threads(caller)
    assert threads_seen == [1] * 5
    assert GP_KEY in baseline._study.trials[-1].system_attrs  # the GP did propose the last ones
