"""MS-EHVI: expected hypervolume improvement that models only the objectives that need training."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from baselines._evolution import normalised
from baselines.base import Option, register
from baselines.qnehvi import BATCH, QNEHVI, REFERENCE
from tasks.base import Config, Result, Trial, to_python
from tasks.threads import torch_seeded, torch_threads


@register("ms_ehvi")
class MSEHVI(QNEHVI):
    """MS-EHVI (mixed-surrogate EHVI): Gaussian processes for the objectives that need training, the exact
    value for the objectives the configuration determines (a parameter count), and BoTorch's Monte-Carlo
    expected hypervolume improvement ``qExpectedHypervolumeImprovement`` over both.

    Guerrero-Viu, Hauns, Izquierdo, Miotto, Schrodi, Biedenkapp, Elsken, Deng, Lindauer and Hutter, "Bag of
    Baselines for Multi-objective Joint Neural Architecture Search and Hyperparameter Optimization", ICML
    2021 AutoML workshop (arXiv:2105.01015), section 4; EHVI after Emmerich, Giannakoglou and Naujoks, IEEE
    TEVC 10(4), 2006, in BoTorch's form (Daulton, Balandat and Bakshy, NeurIPS 2020). The paper's code
    (automl/multi-obj-baselines, ``methods/msehvi``) put a ``GenericDeterministicModel`` next to one GP per
    trained objective inside Ax; this is the same composition in BoTorch directly:

    - the objectives the task declares known (``Task.known``, received as ``known``) are a
      ``GenericDeterministicModel``: the model's input carries them as extra columns (the candidate's
      ``known(config)``, scaled by the objectives' bounds) and the deterministic model returns those columns,
      so no Gaussian process ever models or is asked for a known objective;
    - the other objectives are one ``SingleTaskGP`` (independent outputs, ``Standardize``d, BoTorch's
      default priors, ``fit_gpytorch_mll``) that sees only the configuration's encoding (``FilterFeatures``
      drops the known columns);
    - the acquisition is ``qExpectedHypervolumeImprovement`` (the paper's EHVI, not the log or the noisy
      variant) over the observed front in the objectives' bounds (reference point 1.1 per objective);
      pending trials are its ``X_pending`` (BoTorch's way for asynchronous workers), at most ``max_pending``
      of them; it is maximised over qNEHVI's candidate set (random configurations and one-parameter mutations
      of the front, never one observed or pending; see ``baselines/qnehvi.py`` for why a candidate set).

    Without ``known`` (a task that declares none, or a caller that passes none), every objective is a GP:
    plain EHVI. Initial random trials, encoding, failed and replayed trials, seeding and options are
    qNEHVI's (``n_initial_trials``, ``n_candidates``, ``n_mutations``, ``mc_samples``, ``refit_growth``: the GP is
    fitted again, from its last hyperparameters, when the data has grown by that fraction; ``torch_threads``);
    every trial runs at the task's maximum fidelity.

    Args (options), besides qNEHVI's:
        max_pending: the pending trials the acquisition is computed jointly with, the most recently asked
            ones (default 5). qEHVI's inclusion-exclusion runs over every subset of the candidate and the
            pending points, so its memory and time double with each pending point: on fcnet-naval (seed 0, 40
            evaluations) a run's peak memory and CPU were 0.42 GB and 10 s with 3 pending, 0.9 GB and 33 s
            with 8, 2.1 GB and 118 s with 10, 3.8 GB and 219 s with 11, and a run with 15 pending (16
            workers) was killed at 23 GB; with this cap it took 0.48 GB and 9 s. The earlier-asked pending
            trials are the ones left out, as they are likely the nearest to returning into the model; they are
            never asked again (like every pending trial). With up to ``max_pending + 1`` workers nothing is left
            out; 0 leaves every pending trial out of the acquisition (and still out of the candidates).
    """

    OPTIONS = {**QNEHVI.OPTIONS, "max_pending": Option.integer(5, at_least=0)}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._pending_configs: dict[int, Config] = {}
        self._known_names: tuple[str, ...] | None = None  # asked of ``known`` at the first model-based proposal

    def propose(self, trial_id: int):  # type: ignore[no-untyped-def]  # the parent's Proposal
        proposal = super().propose(trial_id)
        self._pending_configs[trial_id] = proposal.config
        return proposal

    def observe(self, trial: Trial, result: Result, values: np.ndarray | None, replayed: bool) -> None:
        self._pending_configs.pop(trial.id, None)
        super().observe(trial, result, values, replayed)

    def known_columns(self) -> list[int]:
        """Positions (in ``self.objectives``) of the objectives computed by ``known``; empty without it."""
        names = [o.name for o in self.objectives]
        if self.known is None:
            return []
        if self._known_names is None:
            self._known_names = tuple(self.known(self._configs[0]))
            strange = sorted(set(self._known_names) - set(names))
            if strange:
                raise ValueError(f"baseline ms_ehvi: the task's known objectives {strange} are not among its "
                                 f"objectives {names}")
        return [j for j, name in enumerate(names) if name in self._known_names]

    def known_values(self, configs: list[Config]) -> np.ndarray:
        """The known objectives of ``configs`` (rows), scaled by their bounds, in ``known_columns`` order."""
        columns = self.known_columns()
        chosen = tuple(self.objectives[j] for j in columns)
        rows = [[self.known(c)[o.name] for o in chosen] for c in configs] if self.known is not None else []
        return normalised(np.array(rows, dtype=float).reshape(len(configs), len(columns)), chosen)

    def acquisition(self) -> tuple[Any, int]:
        """BoTorch's qEHVI fitted to the observations (and the width of the encoding): evaluate it on inputs
        ``[encoding, known_values]``, shape (n, 1, width + known objectives)."""
        import torch
        from botorch.acquisition.multi_objective import qExpectedHypervolumeImprovement
        from botorch.fit import fit_gpytorch_mll
        from botorch.models import ModelList, SingleTaskGP
        from botorch.models.deterministic import GenericDeterministicModel
        from botorch.models.transforms.input import FilterFeatures
        from botorch.models.transforms.outcome import Standardize
        from botorch.sampling import ListSampler, SobolQMCNormalSampler
        from botorch.sampling.index_sampler import IndexSampler
        from botorch.utils.multi_objective.box_decompositions import FastNondominatedPartitioning
        from gpytorch.mlls import ExactMarginalLogLikelihood

        width = self._encoding.width
        known = self.known_columns()
        trained = [j for j in range(len(self.objectives)) if j not in known]
        outputs = np.array(self._outputs)
        # model outputs in the order [trained..., known...]: ModelList concatenates its models' outputs
        order = trained + known
        inputs = torch.tensor(np.hstack([np.array(self._inputs), outputs[:, known]]), dtype=torch.double)
        samples = torch.Size([self._options["mc_samples"]])
        models, samplers = [], []
        if trained:
            gp = SingleTaskGP(inputs, -torch.tensor(outputs[:, trained], dtype=torch.double),
                              input_transform=FilterFeatures(torch.arange(width)),
                              outcome_transform=Standardize(m=len(trained)))
            # qNEHVI's rule (option refit_growth): start from the last fit's hyperparameters (not the
            # data-dependent outcome scaling) and fit again only when the data has grown enough
            gp.load_state_dict(self._hyperparameters, strict=False)
            if len(outputs) >= self._fitted_on * (1 + self._options["refit_growth"]):
                fit_gpytorch_mll(ExactMarginalLogLikelihood(gp.likelihood, gp))
                self._hyperparameters = {key: value for key, value in gp.state_dict().items()
                                         if not key.startswith("outcome_transform")}
                self._fitted_on = len(outputs)
            gp.eval()
            models.append(gp)
            samplers.append(SobolQMCNormalSampler(sample_shape=samples, seed=int(self._rng.integers(2**31))))
        if known:
            models.append(GenericDeterministicModel(lambda x: -x[..., width:], num_outputs=len(known)))
            samplers.append(IndexSampler(sample_shape=samples))  # every "sample" is the exact value
        pending = None
        if self._pending_configs and self._options["max_pending"]:
            configs = list(self._pending_configs.values())[-self._options["max_pending"]:]  # dicts keep asking order
            encoded = np.array([self._encoding.encode(c) for c in configs])
            pending = torch.tensor(np.hstack([encoded, self.known_values(configs)]), dtype=torch.double)
        reference = torch.full((len(order),), -REFERENCE, dtype=torch.double)
        observed = -torch.tensor(outputs[:, order], dtype=torch.double)
        # BoTorch recommends the log variant for gradient-based optimisation of the acquisition, where EHVI's
        # flat zero regions stop the optimiser; over a candidate set the plain EHVI (the paper's) ranks them
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message="qExpectedHypervolumeImprovement has known numerical")
            acquisition = qExpectedHypervolumeImprovement(
                model=ModelList(*models),
                ref_point=reference,
                partitioning=FastNondominatedPartitioning(ref_point=reference, Y=observed),
                sampler=ListSampler(*samplers),  # one per model: Gaussian samples for the GP, none for the rest
                X_pending=pending,
            )
        return acquisition, width

    def _best_candidate(self) -> Config:
        import torch

        configs, vectors = self._candidates()
        if not configs:  # every candidate drawn was observed already (a small, exhausted table)
            return to_python(self._random_space.sample_configuration())
        with torch_seeded(int(self._rng.integers(2**31))), torch_threads(self._options["torch_threads"]):
            acquisition, _ = self.acquisition()
            choices = torch.tensor(np.hstack([vectors, self.known_values(configs)]), dtype=torch.double)
            with torch.no_grad():
                values = torch.cat([acquisition(batch) for batch in torch.split(choices.unsqueeze(-2), BATCH)])
        return configs[int(torch.argmax(values))]
