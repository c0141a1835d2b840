"""LaMOO: learned space partitions around any registered baseline, which proposes inside the chosen region."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from baselines._encoding import Encoding
from baselines.base import BASELINES, Baseline, Option, Proposal, register
from tasks.base import Config, Result, Trial, to_python

if TYPE_CHECKING:
    from sklearn.svm import SVC

#: the reason an inner baseline is told for a proposal outside the selected region
OUTSIDE = "outside the region LaMOO selected"
#: random configurations the fallback draws at a time: regions are rarely under a tenth of the space, and
#: decoding all ``candidates`` ConfigSpace samples at once was most of a fallback's time
FALLBACK_BLOCK = 50


def dominance_numbers(values: np.ndarray) -> np.ndarray:
    """For each row of ``values`` (minimised objectives), how many other rows dominate it.

    LaMOO's label (its equation 2). Own code: moocore and pymoo give non-dominated ranks (fronts), not this
    count. One vectorised comparison of every pair, n * n * m booleans: a tree of a few thousand samples.
    """
    values = np.asarray(values, dtype=float)
    no_worse = (values[:, None, :] <= values[None, :, :]).all(axis=2)  # [i, j]: i is nowhere worse than j
    better = (values[:, None, :] < values[None, :, :]).any(axis=2)
    return (no_worse & better).sum(axis=0)


@dataclass(frozen=True)
class _BaselineName(Option):
    """An option naming another registered baseline (checked against the registry when given, so plug-ins count)."""

    def check(self, value: Any) -> Any:
        if isinstance(value, str) and value != "lamoo" and value in BASELINES:
            return value
        raise ValueError(self.allowed())

    def allowed(self) -> str:
        return f"the name of a registered baseline other than lamoo ({', '.join(n for n in BASELINES.names() if n != 'lamoo')})"


@dataclass
class _Node:
    """A region of the tree: the samples (indices) it holds and, once split, its boundary and children."""

    samples: np.ndarray
    hypervolume: float
    svm: SVC | None = None
    children: list[_Node] = field(default_factory=list)  # [good, bad]: the SVM's labels 1 and 0


@register("lamoo")
class LaMOO(Baseline):
    """LaMOO: an inner optimiser constrained to the most promising region of a learned partition of the space.

    Zhao, Wang and Guo, "Multi-Objective Optimization by Learning Space Partitions", ICLR 2022, and
    "Multi-Objective Neural Architecture Search by Learning Search Space Partitions", JMLR 25, 2024.

    A tree of regions is built from the trials observed so far, and built again after every ``rebuild_every``
    new samples: a node holding at least ``split_threshold`` samples, above ``max_depth``, labels each sample
    by its dominance number (how many of the node's samples dominate it), clusters those numbers into two
    groups with k-means (scikit-learn; the group of smaller numbers is "good") and learns the boundary with
    an SVM (scikit-learn ``SVC``, RBF kernel, classes weighted by their size: the good cluster is often a
    large majority, and unweighted the SVM put nearly the whole space on its side, so no region formed) on the
    encoded configurations (``baselines._encoding.Encoding``); the samples
    go to the child the SVM puts them in, and the node is a leaf when k-means or the SVM cannot split it.
    From the root down, the child with the larger upper confidence bound is chosen: the hypervolume of its
    samples (objectives normalised by their bounds, reference point 1.1 in each) plus
    ``exploration * sqrt(2 ln n_parent / n_child)``. The leaf reached is the selected region: the
    configurations every SVM on the path puts on the chosen side.

    The inner optimiser (option ``inner``, any registered baseline, built with the same space, objectives,
    fidelity, seed, ``known`` and ``context``) proposes; a proposal inside the region is handed out. One
    outside is told to the inner baseline as a failed evaluation (reason ``OUTSIDE``: every baseline survives
    failures, and none learns a false objective value from it) and the inner baseline asks again, up to
    ``retries`` proposals. Then, as a fallback, up to ``candidates`` random configurations are drawn from the
    space (``FALLBACK_BLOCK`` at a time) and the first inside the region is handed out at the task's maximum fidelity; if none is inside (a region
    too small to hit), the inner baseline's last proposal is handed out unconstrained. The inner baseline is
    told every result: of its own trials as such, of the others (fallbacks, replayed trials) as replayed trials
    it never asked for.

    Several pending asks share one tree (their proposals differ as the inner baseline makes them differ, e.g.
    MOTPE's constant liar). Failed evaluations and results below the maximum fidelity (a multi-fidelity inner
    baseline) are not samples of the tree; they reach the inner baseline all the same.

    Args (options):
        inner: the registered baseline that proposes (default ``random_search``: LaMOO's partition with
            uniform sampling in the region, the cheapest; its own options are its defaults).
        max_depth: the deepest a leaf may be (default 3: at most 8 regions).
        split_threshold: the fewest samples a node splits (default 10); fewer observed trials: no constraint.
        exploration: the UCB's exploration weight on normalised hypervolume (the paper's C_p; default 0.1).
        retries: inner proposals tried per trial before the fallback (default 10).
        candidates: random configurations the fallback draws (default 500).
        rebuild_every: new samples between rebuilds of the tree (default 5; the paper re-partitions once per
            batch of proposals).
    """

    OPTIONS = {
        "inner": _BaselineName("random_search", "choice"),
        "max_depth": Option.integer(3, at_least=1, at_most=10),
        "split_threshold": Option.integer(10, at_least=4),
        "exploration": Option.real(0.1, at_least=0.0),
        "retries": Option.integer(10, at_least=1),
        "candidates": Option.integer(500, at_least=1),
        "rebuild_every": Option.integer(5, at_least=1),
    }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        extra: dict[str, Any] = {}  # only what this run has: a plug-in inner baseline may not accept them
        if self.known is not None:
            extra["known"] = self.known
        if self.context is not None:
            extra["context"] = self.context
        self.inner = BASELINES.get(self._options["inner"])(self.space, self.objectives, self.fidelity, self.seed,
                                                           **extra)
        # inactive parameters at -0.5, apart from every active value, so the SVMs can tell them apart
        self._encoder = Encoding(self.space, inactive=-0.5)
        self._lower = np.array([o.lower for o in self.objectives], dtype=float)
        self._span = np.array([o.upper - o.lower for o in self.objectives], dtype=float)
        self._reference = np.full(len(self.objectives), 1.1)
        self._x: list[np.ndarray] = []  # encoded configurations of the tree's samples
        self._y: list[np.ndarray] = []  # their normalised objectives
        self._root: _Node | None = None  # None: build before the next proposal
        self._built_with = 0  # samples the tree was built from
        self._inner_trials: dict[int, Trial] = {}  # outer trial id -> the inner baseline's trial
        self._inner_next = 0  # an inner trial id the inner baseline has not handed out
        #: how each proposal was made ("inner", "fallback", "unconstrained"), for tests and the benchmark
        self.made_by: dict[int, str] = {}

    # ---- proposing ----

    def propose(self, trial_id: int) -> Proposal:
        path = self.selected_path()
        last: Trial | None = None
        for attempt in range(self._options["retries"]):
            if last is not None:  # a proposal outside the region, replaced by the next
                self.inner.tell(last, Result.failure(OUTSIDE))
            last = self.inner.ask()
            self._inner_next = max(self._inner_next, last.id + 1)
            if self.in_region(path, [last.config])[0]:
                self._inner_trials[trial_id] = last
                self.made_by[trial_id] = "inner"
                return Proposal(last.config, last.fidelity)
        assert last is not None
        for drawn in range(0, self._options["candidates"], FALLBACK_BLOCK):
            configs = self._random_configs(min(FALLBACK_BLOCK, self._options["candidates"] - drawn))
            inside = np.flatnonzero(self.in_region(path, configs))
            if len(inside):
                self.inner.tell(last, Result.failure(OUTSIDE))
                self.made_by[trial_id] = "fallback"
                return Proposal(configs[inside[0]])
        self._inner_trials[trial_id] = last
        self.made_by[trial_id] = "unconstrained"
        return Proposal(last.config, last.fidelity)

    def _random_configs(self, n: int) -> list[Config]:
        """``n`` uniform random configurations: numpy over a table's levels, ConfigSpace for any other space."""
        if self.levels is not None:
            indices = self._rng.integers(0, [len(v) for v in self.levels.values()], size=(n, len(self.levels)))
            return [{name: values[i] for (name, values), i in zip(self.levels.items(), row)}
                    for row in indices.tolist()]
        drawn = self._random_space.sample_configuration(n)
        return [to_python(dict(c)) for c in ([drawn] if n == 1 else drawn)]

    def in_region(self, path: list[tuple[SVC, int]], configs: list[Config]) -> np.ndarray:
        """Whether each configuration lies on the chosen side of every boundary on ``path``."""
        inside = np.ones(len(configs), dtype=bool)
        if path:
            x = self._encoder.encode_all(configs)
            for svm, side in path:
                inside &= svm.predict(x) == side
        return inside

    # ---- the tree ----

    def selected_path(self) -> list[tuple[SVC, int]]:
        """The boundaries from the root to the leaf the UCB rule selects, each with the side taken (1: good)."""
        if self._root is None or len(self._y) - self._built_with >= self._options["rebuild_every"]:
            from threadpoolctl import threadpool_limits

            # one thread: k-means' OpenMP threads cost 5x more than they save on a few hundred numbers
            with threadpool_limits(limits=1):
                self._root = self._build(np.arange(len(self._y)), depth=0)
            self._built_with = len(self._y)
        node, path = self._root, []
        while node.children:
            parent_n = len(node.samples)
            scores = [child.hypervolume + self._options["exploration"]
                      * math.sqrt(2 * math.log(parent_n) / len(child.samples)) for child in node.children]
            side = 0 if scores[0] >= scores[1] else 1  # a tie goes to the good child
            path.append((node.svm, 1 - side))
            node = node.children[side]
        return path

    def _build(self, samples: np.ndarray, depth: int) -> _Node:
        from sklearn.cluster import KMeans
        from sklearn.svm import SVC

        y = np.array(self._y)[samples] if len(samples) else np.empty((0, len(self.objectives)))
        node = _Node(samples, self._hypervolume(y))
        if depth >= self._options["max_depth"] or len(samples) < self._options["split_threshold"]:
            return node
        dominance = dominance_numbers(y).astype(float)
        if dominance.min() == dominance.max():  # every sample equally good: nothing to separate
            return node
        # two clusters of the dominance numbers, started at their extremes: deterministic, one run of Lloyd's
        centres = np.array([[dominance.min()], [dominance.max()]])
        clusters = KMeans(n_clusters=2, init=centres, n_init=1).fit(dominance[:, None])
        good = clusters.labels_ == int(np.argmin(clusters.cluster_centers_[:, 0]))
        x = np.array(self._x)[samples]
        svm = SVC(kernel="rbf", gamma="scale", class_weight="balanced").fit(x, good.astype(int))
        predicted = svm.predict(x) == 1
        if predicted.all() or not predicted.any():  # the SVM sees no boundary: a leaf
            return node
        node.svm = svm
        node.children = [self._build(samples[predicted], depth + 1), self._build(samples[~predicted], depth + 1)]
        return node

    def _hypervolume(self, y: np.ndarray) -> float:
        """Hypervolume of normalised points as a fraction of the reference box (0 for none)."""
        import moocore

        inside = y[(y < self._reference).all(axis=1)] if len(y) else y
        if not len(inside):
            return 0.0
        return float(moocore.hypervolume(inside, ref=self._reference)) / float(np.prod(self._reference))

    # ---- learning ----

    def observe(self, trial: Trial, result: Result, values: np.ndarray | None, replayed: bool) -> None:
        inner_trial = self._inner_trials.pop(trial.id, None)
        if inner_trial is None:  # a fallback or a replayed trial: the inner baseline never asked for it
            inner_trial = Trial(self._inner_next, trial.config, trial.fidelity)
            self._inner_next += 1
        self.inner.tell(inner_trial, result)
        at_maximum = trial.fidelity is None or self.fidelity is None or trial.fidelity >= self.fidelity.max
        if values is not None and at_maximum:
            self._x.append(self._encoder.encode(trial.config))
            self._y.append((values - self._lower) / self._span)
