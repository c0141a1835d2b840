"""Per-trial optimiser time of qnehvi, sms_emoa and morea, and of the raw libraries driven directly.

Only the optimiser's own calls are timed (``ask`` + ``tell`` of the baseline; the raw loops' library calls),
in CPU seconds of this process (``time.process_time``: other jobs on a shared machine inflate wall time, far
less CPU time), one worker, on a table task. Table evaluations are not timed.

- ``qnehvi`` against a plain BoTorch loop as BoTorch's tutorials write it: the same encoding (some encoding is
  needed to use BoTorch at all), ``SingleTaskGP`` fitted afresh each trial, ``qLogNoisyExpectedHypervolume-
  Improvement`` with the same reference point and samples, ``optimize_acqf_discrete`` over the same number of
  random candidates with the observed points as ``X_avoid``. The wrapper also mutates the front into its
  candidate set and warm-starts the fit, so the ratio is of two different amounts of work, both printed.
- ``sms_emoa`` against pymoo's ``SMSEMOA`` run steady state (``n_offsprings=1``, the same population size)
  through pymoo's ask/tell on the table's level indices as integer variables (pymoo's recipe: integer
  sampling, SBX and polynomial mutation with rounding repair).
- ``morea``: no library to compare with (syne-tune is not a dependency); its own time only.

    python benchmarks/wrapper_overhead_b.py [--task fcnet-naval] [--budgets 100,500] [--qnehvi-budget 100] [--seeds 3]
        [--baselines sms_emoa,morea,qnehvi]
"""

from __future__ import annotations

import argparse
import copy
import statistics
import sys
import time
from typing import Callable

import numpy as np

from baselines import BASELINES
from tasks import make_task
from tasks.base import Config, Task, to_python


def wrapped(name: str, task: Task, seed: int, budget: int) -> float:
    """CPU seconds per trial of ``ask`` + ``tell`` of the registered baseline ``name``."""
    baseline = BASELINES.get(name)(task.space, task.objectives, task.fidelity, seed)
    spent = 0.0
    for i in range(budget):
        started = time.process_time()
        trial = baseline.ask()
        spent += time.process_time() - started
        result = task.evaluate(trial.config, trial.fidelity, seed=seed * 100_003 + i)
        started = time.process_time()
        baseline.tell(trial, result)
        spent += time.process_time() - started
    return spent / budget


def plain_botorch(task: Task, seed: int, budget: int) -> float:
    """CPU seconds per trial of a plain BoTorch qLogNEHVI loop (see the module docstring)."""
    import torch
    from botorch.acquisition.multi_objective.logei import qLogNoisyExpectedHypervolumeImprovement
    from botorch.fit import fit_gpytorch_mll
    from botorch.models import SingleTaskGP
    from botorch.models.transforms.outcome import Standardize
    from botorch.optim import optimize_acqf_discrete
    from botorch.sampling import SobolQMCNormalSampler
    from gpytorch.mlls import ExactMarginalLogLikelihood

    from baselines._evolution import normalised
    from baselines.qnehvi import QNEHVI, REFERENCE, Encoding

    options = QNEHVI.check_options({})
    encoding = Encoding(task.space)
    space = copy.deepcopy(task.space)  # seeded here, the task's own stays as it is
    space.seed(seed)
    inputs: list[np.ndarray] = []
    outputs: list[np.ndarray] = []
    configs: dict[bytes, Config] = {}
    spent = 0.0
    torch.manual_seed(seed)
    previous = torch.get_num_threads()
    torch.set_num_threads(options["torch_threads"])  # as the wrapper runs
    try:
        for i in range(budget):
            started = time.process_time()
            if i < options["n_initial_trials"]:
                config = to_python(space.sample_configuration())
            else:
                x = torch.tensor(np.array(inputs), dtype=torch.double)
                y = -torch.tensor(np.array(outputs), dtype=torch.double)
                model = SingleTaskGP(x, y, outcome_transform=Standardize(m=y.shape[-1]))
                fit_gpytorch_mll(ExactMarginalLogLikelihood(model.likelihood, model))
                acquisition = qLogNoisyExpectedHypervolumeImprovement(
                    model=model, ref_point=[-REFERENCE] * y.shape[-1], X_baseline=x, prune_baseline=True,
                    sampler=SobolQMCNormalSampler(sample_shape=torch.Size([options["mc_samples"]]), seed=seed + i))
                drawn = [to_python(c) for c in space.sample_configuration(options["n_candidates"])]
                for c in drawn:
                    configs.setdefault(encoding.encode(c).tobytes(), c)
                choices = torch.tensor(np.array([encoding.encode(c) for c in drawn]), dtype=torch.double)
                best, _ = optimize_acqf_discrete(acquisition, q=1, choices=choices, X_avoid=x)
                config = configs[best[0].numpy().tobytes()]
            spent += time.process_time() - started
            result = task.evaluate(config, None, seed=seed * 100_003 + i)
            started = time.process_time()
            values = np.array([result.objectives[o.name] for o in task.objectives])
            inputs.append(encoding.encode(config))
            outputs.append(normalised(values, task.objectives))
            spent += time.process_time() - started
    finally:
        torch.set_num_threads(previous)
    return spent / budget


def plain_pymoo(task: Task, seed: int, budget: int) -> float:
    """CPU seconds per trial of pymoo's steady-state SMSEMOA through ask/tell (see the module docstring)."""
    from pymoo.algorithms.moo.sms import SMSEMOA
    from pymoo.core.evaluator import Evaluator
    from pymoo.core.problem import Problem
    from pymoo.operators.crossover.sbx import SBX
    from pymoo.operators.mutation.pm import PM
    from pymoo.operators.repair.rounding import RoundingRepair
    from pymoo.operators.sampling.rnd import IntegerRandomSampling
    from pymoo.problems.static import StaticProblem

    from baselines.base import product_levels
    from baselines.sms_emoa import SMSEMOA as Ours

    levels = product_levels(task.space)
    if levels is None:
        raise SystemExit(f"{task.name}: not a product of levels; the pymoo loop needs a table task")
    names, values = list(levels), list(levels.values())
    problem = Problem(n_var=len(names), n_obj=len(task.objectives), xl=0, xu=np.array([len(v) - 1 for v in values]),
                      vtype=int)
    algorithm = SMSEMOA(pop_size=Ours.check_options({})["population_size"], n_offsprings=1,
                        sampling=IntegerRandomSampling(), crossover=SBX(vtype=float, repair=RoundingRepair()),
                        mutation=PM(vtype=float, repair=RoundingRepair()), eliminate_duplicates=True)
    algorithm.setup(problem, seed=seed, termination=("n_eval", budget), verbose=False)
    spent, evaluated = 0.0, 0
    while evaluated < budget:
        started = time.process_time()
        population = algorithm.ask()
        spent += time.process_time() - started
        objectives = []
        for x in population.get("X")[: budget - evaluated]:
            config = {name: value[int(i)] for name, value, i in zip(names, values, x)}
            result = task.evaluate(config, None, seed=seed * 100_003 + evaluated)
            objectives.append([result.objectives[o.name] for o in task.objectives])
            evaluated += 1
        population = population[: len(objectives)]
        started = time.process_time()
        Evaluator().eval(StaticProblem(problem, F=np.array(objectives)), population)  # pymoo's way for outside values
        algorithm.tell(infills=population)
        spent += time.process_time() - started
    return spent / budget


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--task", default="fcnet-naval")
    parser.add_argument("--budgets", default="100,500", help="evaluations per run, comma-separated")
    parser.add_argument("--qnehvi-budget", type=int, default=100, help="qnehvi's (reduced) evaluations")
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--baselines", default="sms_emoa,morea,qnehvi", help="which of the three, comma-separated")
    args = parser.parse_args()
    try:
        budgets = [int(b) for b in args.budgets.split(",")]
        task = make_task(args.task)
    except (ValueError, KeyError) as error:
        print(f"wrapper_overhead_b: {error}", file=sys.stderr)
        sys.exit(2)
    cases: list[tuple[str, Callable[[Task, int, int], float] | None, list[int]]] = [
        ("sms_emoa", plain_pymoo, budgets), ("morea", None, budgets), ("qnehvi", plain_botorch, [args.qnehvi_budget])]
    chosen = args.baselines.split(",")
    unknown = sorted(set(chosen) - {name for name, _, _ in cases})
    if unknown:
        print(f"wrapper_overhead_b: --baselines: unknown {', '.join(unknown)}; choose from sms_emoa, morea, qnehvi",
              file=sys.stderr)
        sys.exit(2)
    cases = [case for case in cases if case[0] in chosen]
    print(f"{args.task}, {args.seeds} seeds, 1 worker; CPU ms per trial of the optimiser's own calls (median over seeds)")
    print(f"{'baseline':10} {'evals':>6} {'wrapper':>10} {'library':>10} {'ratio':>7}")
    for name, plain, counts in cases:
        for budget in counts:
            ours = statistics.median(wrapped(name, task, seed, budget) for seed in range(args.seeds))
            if plain is None:
                print(f"{name:10} {budget:6d} {1e3 * ours:10.3f} {'-':>10} {'-':>7}", flush=True)
                continue
            theirs = statistics.median(plain(task, seed, budget) for seed in range(args.seeds))
            print(f"{name:10} {budget:6d} {1e3 * ours:10.3f} {1e3 * theirs:10.3f} {ours / theirs:7.2f}", flush=True)


if __name__ == "__main__":
    main()
