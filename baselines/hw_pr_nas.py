"""HW-PR-NAS: a surrogate trained to preserve Pareto ranks (Plackett-Luce listwise loss) picks each trial."""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from baselines._levels import LevelGrid, LevelHistory
from baselines.base import Baseline, Option, Proposal, register
from tasks.base import Result, Trial
from tasks.threads import torch_threads


def pareto_ranks(values: np.ndarray) -> np.ndarray:
    """The Pareto rank of each row of ``values`` (all objectives minimised): 0 for the non-dominated rows,
    1 for those non-dominated once rank 0 is removed, and so on (moocore's non-dominated sorting)."""
    import moocore

    return np.asarray(moocore.pareto_rank(np.asarray(values, dtype=float)), dtype=np.int64)


def plackett_luce_loss(scores: Any, ranks: Any) -> Any:
    """The listwise Plackett-Luce negative log-likelihood of the order given by ``ranks`` under ``scores``.

    The items are put in order of rank (best, i.e. lowest, first; ties keep their order in the input, so a
    caller shuffles the list to break ties at random), and
    ``loss = -sum_i [ s_(i) - log sum_{j >= i} exp(s_(j)) ]``: the log-probability that sampling without
    replacement with probabilities proportional to ``exp(score)`` draws the items in that order (ListMLE,
    Xia et al. 2008, the loss HW-PR-NAS trains its Pareto-rank predictor with). Torch tensors of shape (n,).
    """
    import torch

    order = torch.argsort(torch.as_tensor(ranks), stable=True)
    ordered = scores[order]
    # log sum_{j >= i} exp(s_j): a reversed cumulative logsumexp
    tail = torch.flip(torch.logcumsumexp(torch.flip(ordered, [0]), 0), [0])
    return (tail - ordered).sum()


class ParetoRankModel:
    """An MLP scoring encoded architectures so that a better Pareto rank gets a higher score.

    Trained on lists (one per device, or the one task of an ordinary run) with ``plackett_luce_loss``, ties
    broken by a fresh random order each epoch. Weights start from ``rng`` (numpy), so a seed fixes the model
    without touching torch's global generator; training continues from the current weights (warm start).

    Args:
        width: the encoding's length.
        hidden: units of each of the two hidden layers.
        rng: the source of the initial weights and of the tie orders.
        learning_rate: Adam's step size.
    """

    def __init__(self, width: int, hidden: int, rng: np.random.Generator, learning_rate: float = 0.01) -> None:
        import torch

        self._rng = rng
        shapes = [(width, hidden), (hidden,), (hidden, hidden), (hidden,), (hidden, 1), (1,)]
        self.parameters = [torch.tensor(rng.normal(0, (2 / shape[0]) ** 0.5, size=shape) if len(shape) == 2
                                        else np.zeros(shape), dtype=torch.float32, requires_grad=True)
                           for shape in shapes]
        self._optimiser = torch.optim.Adam(self.parameters, lr=learning_rate)

    def scores(self, x: np.ndarray) -> Any:
        """Scores of encoded rows ``x`` (n, width) as a torch tensor (n,)."""
        import torch

        w1, b1, w2, b2, w3, b3 = self.parameters
        h = torch.relu(torch.as_tensor(x) @ w1 + b1)
        h = torch.relu(h @ w2 + b2)
        return (h @ w3 + b3)[:, 0]

    def predict(self, x: np.ndarray) -> np.ndarray:
        import torch

        with torch.no_grad(), torch_threads(1):
            return self.scores(x).numpy().astype(float)

    def fit(self, lists: Sequence[tuple[np.ndarray, np.ndarray]], epochs: int) -> None:
        """Train on ``lists`` of (encoded rows, Pareto ranks) for ``epochs`` full passes."""
        import torch

        tensors = [(torch.as_tensor(x), torch.as_tensor(r)) for x, r in lists if len(r) > 1]
        if not tensors:
            return
        with torch_threads(1):
            self._fit(tensors, epochs)

    def _fit(self, tensors: list[tuple[Any, Any]], epochs: int) -> None:
        import torch

        for _ in range(epochs):
            self._optimiser.zero_grad()
            loss = torch.zeros(())
            for x, ranks in tensors:
                shuffle = torch.as_tensor(self._rng.permutation(len(ranks)))
                loss = loss + plackett_luce_loss(self.scores(x[shuffle]), ranks[shuffle]) / len(ranks)
            loss.backward()
            self._optimiser.step()


def encode(grid: LevelGrid, indices: np.ndarray, context: np.ndarray | None) -> np.ndarray:
    """HW-PR-NAS's encoder here: the one-hot levels, the shared-level counts and the context, if any."""
    indices = np.atleast_2d(indices)
    blocks = [grid.one_hot(indices), grid.counts(indices)]
    if context is not None:
        blocks.append(np.repeat(np.asarray(context, dtype=np.float32)[None, :], len(indices), axis=0))
    return np.concatenate(blocks, axis=1)


@register("hw_pr_nas")
class HWPRNAS(Baseline):
    """HW-PR-NAS: a Pareto-rank-preserving surrogate chooses each trial among many sampled candidates.

    Benmeziane, Niar, Ouarnoughi and El Maghraoui, "Pareto Rank-Preserving Supernetwork-free Surrogate
    for Hardware-aware Neural Architecture Search" (HW-PR-NAS), 2022. The paper's predictor is trained with a
    listwise ranking loss (the Plackett-Luce probability of the permutation that sorts the architectures
    by Pareto rank) on the architectures evaluated so far, and the search evaluates the candidate it scores
    best. Differences, stated: the paper's encoder is a GCN and an LSTM over the cell plus architecture
    features; here every parameter is a one-hot block of levels (``baselines._levels``: on NB201 the cell's
    one-hot operation vector) plus counts of shared levels (how many edges hold each operation), and the
    task's ``context`` (a device's hardware embedding) is appended when there is one, so one model can be
    trained across devices (``ParetoRankModel.fit`` with one list per device; ``benchmarks/hardware_transfer.py``).
    The candidates are random draws from the space; the surrogate is a two-layer MLP, refit (warm-started)
    after each result.

    Asynchronous workers: a candidate already evaluated or pending is never proposed again, and candidates
    are drawn afresh per ask, so several pending asks get different architectures. A failed evaluation is
    remembered as tried and left out of the ranks. Replayed trials enter the model like any other.

    Options:
        n_startup_trials: random trials before the surrogate chooses (default 10).
        n_candidates: random candidates scored per ask (default 1000).
        hidden: units per hidden layer (default 64).
        epochs: training passes after each new result (default 40; warm-started, so they add up).
    """

    OPTIONS = {
        "n_startup_trials": Option.integer(10, at_least=2),
        "n_candidates": Option.integer(1000, at_least=1),
        "hidden": Option.integer(64, at_least=1),
        "epochs": Option.integer(40, at_least=1),
    }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._history = LevelHistory(self.space)
        self._model: ParetoRankModel | None = None

    def propose(self, trial_id: int) -> Proposal:
        history = self._history
        indices, config_of = history.grid.sample(self._options["n_candidates"], self._rng, self._random_space)
        fresh = [i for i, row in enumerate(map(tuple, indices)) if row not in history.tried]
        if not fresh:  # every candidate tried: a small space, or one nearly exhausted
            fresh = list(range(len(indices)))
        if history.n_results >= self._options["n_startup_trials"]:
            self._fit()
            assert self._model is not None
            scores = self._model.predict(encode(history.grid, indices[fresh], self.context))
            chosen = fresh[int(np.argmax(scores))]
        else:
            chosen = fresh[0]  # the candidates are uniform draws: the first fresh one is a random trial
        history.tried.add(tuple(indices[chosen]))
        return Proposal(config_of(chosen))

    def _fit(self) -> None:
        history = self._history
        if not history.stale:
            return
        x = encode(history.grid, history.x, self.context)
        if self._model is None:
            self._model = ParetoRankModel(x.shape[1], self._options["hidden"], self._rng)
        self._model.fit([(x, pareto_ranks(history.y))], self._options["epochs"])
        history.stale = False

    def observe(self, trial: Trial, result: Result, values: np.ndarray | None, replayed: bool) -> None:
        self._history.observe(trial.config, values)
