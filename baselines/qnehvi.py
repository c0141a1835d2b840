"""qNEHVI: Gaussian-process BO with BoTorch's noisy expected hypervolume improvement (log variant)."""

from __future__ import annotations

from typing import Any

import numpy as np

from baselines._encoding import Encoding
from baselines._evolution import mutate, normalised
from baselines.base import Baseline, Option, Proposal, register
from tasks.base import Config, Result, Trial, to_python
from tasks.threads import torch_seeded, torch_threads

#: the hypervolume's reference point, per objective, in units of the objectives' bounds (0 lower, 1 upper)
REFERENCE = 1.1
#: candidates whose acquisition is evaluated at once (BoTorch's ``optimize_acqf_discrete`` uses 2048)
BATCH = 1024


@register("qnehvi")
class QNEHVI(Baseline):
    """qNEHVI: a Gaussian process per objective and BoTorch's ``qLogNoisyExpectedHypervolumeImprovement``.

    Daulton, Balandat and Bakshy, "Parallel Bayesian Optimization of Multiple Noisy Objectives with
    Expected Hypervolume Improvement", NeurIPS 2021; the log form from Ament, Daulton, Eriksson,
    Balandat and Bakshy, "Unexpected Improvements to Expected Improvement for Bayesian Optimization",
    NeurIPS 2023. The noise-aware variant: the table evaluations this suite replays are noisy (one
    recorded seed per evaluation), and qNEHVI integrates over the model's belief about the observed
    points instead of taking their noisy values as the front.

    - The first ``n_initial_trials`` successful results come from random configurations.
    - Then each ask fits BoTorch's ``SingleTaskGP`` (one independent GP per objective, ``Standardize``d
      outcomes, BoTorch's default priors, ``fit_gpytorch_mll``; see ``refit_growth``) to every successful
      result, objectives scaled by the task's bounds and negated (BoTorch maximises), inputs encoded by
      ``Encoding`` (numeric parameters in [0, 1], log where the space says log; ordinals by position;
      categoricals one-hot; inactive parameters at a fixed value). The reference point is ``REFERENCE`` (1.1) in
      units of the bounds, the suite's usual one.
    - The acquisition is maximised over a candidate set: ``n_candidates`` random configurations of the
      space plus ``n_mutations`` one-parameter mutations of each observed configuration on the current
      non-dominated front (a local search around it), minus every configuration already observed or
      pending; the best by acquisition value (as ``optimize_acqf_discrete`` with q = 1) is asked. Every
      candidate is a valid configuration (ConfigSpace draws and completes them, conditions and forbidden
      clauses included), so nothing is rounded or projected. Why a candidate set and not a gradient
      search over the relaxed encoding: the suite's tasks are mostly tables (finite products of levels,
      where a relaxed optimum must be rounded onto a level anyway) and conditional spaces, whose
      relaxation has no meaning for an inactive parameter.
    - Asynchronous workers: the configurations asked and not yet told are the acquisition's
      ``X_pending`` (BoTorch's way: the improvement is computed jointly with them under the model's
      fantasies), so parallel workers get different proposals.
    - Failed evaluations are left out of the model (and never asked again); replayed results enter it
      like any other. Every trial runs at the task's maximum fidelity.
    - Determinism: the model fit and the quasi-Monte-Carlo samples draw from torch's generator, seeded
      from the baseline's seed inside ``tasks.threads.torch_seeded`` (nothing global is changed afterwards).

    Args (options):
        n_initial_trials: random configurations before the model is used (default 10).
        n_candidates: random candidates per ask (default 200).
        n_mutations: mutations of each front member per ask (default 10).
        mc_samples: quasi-Monte-Carlo samples of the acquisition (default 32; BoTorch's is 128). At 150
            results one ask took 3.6 s of CPU with 64 samples and 500 candidates, half of it building the
            per-sample box decompositions, half evaluating the candidates; both grow with the samples.
        refit_growth: the GP's hyperparameters are fitted again (by ``fit_gpytorch_mll``, starting from the
            last ones) when the successful results have grown by this fraction since the last fit (default
            0.1: at 10, 11, 13, 15, 17, 19, 21, 24, 27, ... results, 28 fits up to 200 results); in between,
            each ask conditions the GP on all results with the last hyperparameters. 0 refits at every ask.
        torch_threads: torch's intra-op threads while an ask fits and evaluates (default 1; restored
            afterwards). The model's matrices have at most a few hundred rows, too small for threads to
            pay: on the 2-core development machine under load a 10 x 10 Cholesky took 32 ms with 2
            threads and 0.1 ms with one. None leaves torch's setting alone.
    """

    heavy = True  # a GP per objective refitted on every observation: seconds a trial (docs/baselines.md)
    OPTIONS = {
        "n_initial_trials": Option.integer(10, at_least=2),
        "n_candidates": Option.integer(200, at_least=1),
        "n_mutations": Option.integer(10, at_least=0),
        "mc_samples": Option.integer(32, at_least=1),
        "refit_growth": Option.real(0.1, at_least=0),
        "torch_threads": Option.integer(1, at_least=1, none_means="torch's own setting, left as it is"),
    }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._encoding = Encoding(self.space)
        # ConfigSpace's samplers take a legacy RandomState; it is drawn from the seed's generator
        self._random_state = np.random.RandomState(self._rng.integers(2**32))
        self._configs: list[Config] = []  # successful results, in the order told
        self._inputs: list[np.ndarray] = []
        self._outputs: list[np.ndarray] = []  # normalised objectives
        self._avoid: set[bytes] = set()  # encodings observed (failed too) or pending: never asked again
        self._pending: dict[int, np.ndarray] = {}
        self._hyperparameters: dict[str, Any] = {}  # the last fitted model's, without its outcome scaling
        self._fitted_on = 0  # successful results the hyperparameters were fitted to

    def propose(self, trial_id: int) -> Proposal:
        if len(self._outputs) < self._options["n_initial_trials"]:
            config = to_python(self._random_space.sample_configuration())
        else:
            config = self._best_candidate()
        encoded = self._encoding.encode(config)
        self._pending[trial_id] = encoded
        self._avoid.add(encoded.tobytes())
        return Proposal(config)

    def observe(self, trial: Trial, result: Result, values: np.ndarray | None, replayed: bool) -> None:
        encoded = self._pending.pop(trial.id, None)
        if encoded is None:
            encoded = self._encoding.encode(trial.config)
        self._avoid.add(encoded.tobytes())
        if values is not None:
            self._configs.append(trial.config)
            self._inputs.append(encoded)
            self._outputs.append(normalised(values, self.objectives))

    def _candidates(self) -> tuple[list[Config], np.ndarray]:
        """Random configurations and mutations of the front, each once, none observed or pending."""
        import moocore  # here, not at the top: a baseline module is imported to check names and options

        drawn = self._random_space.sample_configuration(self._options["n_candidates"])
        configs = [to_python(c) for c in (drawn if isinstance(drawn, list) else [drawn])]
        for i in np.flatnonzero(moocore.is_nondominated(np.array(self._outputs))):
            for _ in range(self._options["n_mutations"]):
                child = mutate(self._configs[i], self.space, self._random_state)
                if child is not None:
                    configs.append(child)
        kept: list[Config] = []
        vectors: list[np.ndarray] = []
        seen = set(self._avoid)
        for config in configs:
            vector = self._encoding.encode(config)
            key = vector.tobytes()
            if key not in seen:
                seen.add(key)
                kept.append(config)
                vectors.append(vector)
        return kept, np.array(vectors)

    def _best_candidate(self) -> Config:
        import torch
        from botorch.acquisition.multi_objective.logei import qLogNoisyExpectedHypervolumeImprovement
        from botorch.fit import fit_gpytorch_mll
        from botorch.models import SingleTaskGP
        from botorch.models.transforms.outcome import Standardize
        from botorch.sampling import SobolQMCNormalSampler
        from gpytorch.mlls import ExactMarginalLogLikelihood

        configs, vectors = self._candidates()
        if not configs:  # every candidate drawn was observed already (a small, exhausted table)
            return to_python(self._random_space.sample_configuration())
        seed = int(self._rng.integers(2**31))
        with torch_seeded(seed), torch_threads(self._options["torch_threads"]):
            inputs = torch.tensor(np.array(self._inputs), dtype=torch.double)
            outputs = -torch.tensor(np.array(self._outputs), dtype=torch.double)
            model = SingleTaskGP(inputs, outputs, outcome_transform=Standardize(m=outputs.shape[-1]))
            # the previous fit's hyperparameters (not the data-dependent outcome scaling) are the start of
            # the next fit, or kept as they are until the data has grown enough to refit
            model.load_state_dict(self._hyperparameters, strict=False)
            if len(self._outputs) >= self._fitted_on * (1 + self._options["refit_growth"]):
                fit_gpytorch_mll(ExactMarginalLogLikelihood(model.likelihood, model))
                self._hyperparameters = {key: value for key, value in model.state_dict().items()
                                         if not key.startswith("outcome_transform")}
                self._fitted_on = len(self._outputs)
            model.eval()
            pending = (torch.tensor(np.array(list(self._pending.values())), dtype=torch.double)
                       if self._pending else None)
            acquisition = qLogNoisyExpectedHypervolumeImprovement(
                model=model,
                ref_point=[-REFERENCE] * outputs.shape[-1],
                X_baseline=inputs,
                sampler=SobolQMCNormalSampler(sample_shape=torch.Size([self._options["mc_samples"]]), seed=seed),
                X_pending=pending,
                prune_baseline=True,
            )
            choices = torch.tensor(vectors, dtype=torch.double).unsqueeze(-2)  # n x q=1 x d
            with torch.no_grad():
                values = torch.cat([acquisition(batch) for batch in torch.split(choices, BATCH)])
        return configs[int(torch.argmax(values))]
