"""LCBench surrogate tasks: YAHPO Gym 1.0.2's ONNX model of Auto-PyTorch learning curves, read with onnxruntime.

The model (Pfisterer, Schneider, Moosbauer, Binder and Bischl, "YAHPO Gym - An Efficient Multi-Objective
Multi-Fidelity Benchmark for Hyperparameter Optimization", AutoML-Conf 2022) was fitted to LCBench (Zimmer,
Lindauer and Hutter, "Auto-PyTorch Tabular", TPAMI 2021): funnel-shaped MLPs on 34 OpenML tasks, a joint
architecture (num_layers, max_units, max_dropout) and training (batch_size, learning_rate, momentum,
weight_decay) space, epochs 1..52. It predicts, per (configuration, epoch): time (s), val_accuracy (%),
val_cross_entropy, val_balanced_accuracy, test_cross_entropy, test_balanced_accuracy.

The ``yahpo-gym`` package pins ConfigSpace <= 0.6.1 and numpy < 2, so it cannot share this environment; its
input encoding is written here (no code copied): the model takes ``x_cat`` (int32, the OpenML task id through
``encoding.json``) and ``x_cont`` (float32, the raw values in ``MODEL_INPUTS`` order; the scaling is inside the
model). ``tests/tasks/surrogates/test_lcbench.py`` checks all 200 rows of the reference implementation's
``golden-yahpo-gym-1.0.2.json``.

Exactness and speed. onnxruntime's CPU matrix kernels compute a batch of four or more rows in another order
than a single row (measured: up to 6e-4 relative on ``time``, 1e-5 on the others), and the reference computed
one configuration at a time. So every value a task reports is a single-row prediction (cached per process),
and batches serve only as a filter: for the running maximum of ``time`` (below) and for the best-known front,
where the batched values pick candidates with a margin far above that difference and the candidates are then
computed row by row.

Cost. ``time`` is the training time to an epoch, but the surrogate's is not monotone in the epoch for some
configurations (0 to 54 % of them per task, median 2.2 %: ``benchmarks/lcbench_speed.py --facts``). The
task's training time to epoch ``e`` is the running maximum of ``time`` over epochs 1..e: reaching epoch e
takes at least as long as reaching any earlier one. An evaluation is charged that time
(``promotion="scratch"``, the default: every evaluation trains from scratch, as on every table of this
suite); ``promotion="checkpoint"`` charges only the difference to the highest epoch this task object has
already trained the same configuration to. The model is deterministic:
no seed noise, and ``seed`` is ignored.
"""

from __future__ import annotations

import functools
import hashlib
import json
import math
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, Mapping, Sequence

import numpy as np

from tasks.base import Config, Fidelity, Objective, ReferenceRecord, Result, Task, TaskDataError, to_python

if TYPE_CHECKING:
    from ConfigSpace import ConfigurationSpace
    from onnxruntime import InferenceSession

LCBENCH_ENV = "BOB_LCBENCH_DIR"
#: the OpenML task ids of YAHPO Gym's LCBench scenario (its config_space.json; a test checks them against it)
LCBENCH_INSTANCES = (
    "3945", "7593", "34539", "126025", "126026", "126029", "146212", "167104", "167149", "167152", "167161",
    "167168", "167181", "167184", "167185", "167190", "167200", "167201", "168329", "168330", "168331", "168335",
    "168868", "168908", "168910", "189354", "189862", "189865", "189866", "189873", "189905", "189906", "189908",
    "189909",
)
VERSION = "1"
EPOCHS = 52
#: the model's outputs, in order
TARGETS = ("time", "val_accuracy", "val_cross_entropy", "val_balanced_accuracy", "test_cross_entropy",
           "test_balanced_accuracy")
#: the columns of the model's ``x_cont`` input, in order (YAHPO Gym's ``cont_names`` of lcbench)
MODEL_INPUTS = ("epoch", "batch_size", "learning_rate", "momentum", "weight_decay", "num_layers", "max_units",
                "max_dropout")
OBJECTIVES = (("error", ""), ("log10_train_time", "log10(s)"))
FILES = ("model.onnx", "encoding.json")
#: the fixed sample the best-known front is computed from: Sobol points (scrambled with this seed) x every epoch
FRONT_SAMPLE = 8192
FRONT_SEED = 0
#: batched values pick what is computed row by row with these margins: 16x and 100x the largest batch/row
#: difference measured (6e-4 relative on time, 1e-5 on accuracy), and a proof needs only 2x (``best_known``)
TIME_MARGIN = 1e-2
ERROR_MARGIN = 1e-3
#: bounds are the sample's minimum and maximum rounded outward to this many decimals, so that the batched
#: kernels of another CPU (which differ in the last float32 bits) give the same shipped file
BOUND_DECIMALS = 3
#: single-row predictions kept per process before the cache starts over (a few hundred bytes each)
CACHE_LIMIT = 200_000


@dataclass(frozen=True)
class Parameter:
    """One hyperparameter of the LCBench space (bounds of YAHPO Gym's ``param_set.R`` domain)."""

    name: str
    lower: float
    upper: float
    log: bool
    integer: bool


#: in the order of ``to_python`` (sorted by name), which is the order of the cache keys
PARAMETERS = (
    Parameter("batch_size", 16, 512, log=True, integer=True),
    Parameter("learning_rate", 1e-4, 1e-1, log=True, integer=False),
    Parameter("max_dropout", 0.0, 1.0, log=False, integer=False),
    Parameter("max_units", 64, 1024, log=True, integer=True),
    Parameter("momentum", 0.1, 0.99, log=False, integer=False),
    Parameter("num_layers", 1, 5, log=False, integer=True),
    Parameter("weight_decay", 1e-5, 1e-1, log=False, integer=False),
)
NAMES = tuple(p.name for p in PARAMETERS)
#: x_cont column j holds parameter COLUMNS[j] (-1: the epoch)
COLUMNS = tuple(-1 if name == "epoch" else NAMES.index(name) for name in MODEL_INPUTS)


def configured_folder() -> str | None:
    """The folder ``BOB_LCBENCH_DIR`` names, or None (the one place that reads the variable)."""
    return os.environ.get(LCBENCH_ENV) or None


def data_folder(folder: str | Path | None = None) -> Path:
    """The folder of the surrogate's files: the argument, else ``BOB_LCBENCH_DIR``; raises TaskDataError."""
    given = folder if folder is not None else configured_folder()
    if not given:
        raise TaskDataError(f"the LCBench tasks need YAHPO Gym's lcbench folder (model.onnx, encoding.json): "
                            f"set {LCBENCH_ENV} or pass folder")
    path = Path(given)
    missing = [name for name in FILES if not (path / name).is_file()]
    if missing:
        raise TaskDataError(f"{path} lacks {', '.join(missing)}: give the lcbench folder of yahpo_data v1.0.2")
    return path


class LCBenchSurrogate:
    """The model of one folder with its input encoding and a per-process cache; one per folder and process
    (``surrogate(folder)``), its onnxruntime session made at the first prediction."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        codes = json.loads((folder / "encoding.json").read_text())["OpenML_task_id"]
        self.codes: dict[str, int] = {str(k): int(v) for k, v in codes.items()}
        self._points: dict[tuple[int, tuple[float, ...], int], np.ndarray] = {}
        self._curves: dict[tuple[int, tuple[float, ...]], np.ndarray] = {}

    @functools.cached_property
    def sha256(self) -> str:
        """SHA-256 of model.onnx followed by encoding.json: the encoding decides what the model is asked."""
        digest = hashlib.sha256()
        for name in FILES:
            digest.update((self.folder / name).read_bytes())
        return digest.hexdigest()

    @functools.cached_property
    def session(self) -> InferenceSession:
        import onnxruntime

        options = onnxruntime.SessionOptions()
        # one thread: an evaluation is tiny, and several runs share the cores (Dask workers)
        options.intra_op_num_threads = 1
        options.inter_op_num_threads = 1
        return onnxruntime.InferenceSession(str(self.folder / "model.onnx"), options,
                                            providers=["CPUExecutionProvider"])

    def code(self, instance: str) -> int:
        if instance not in self.codes or instance == "#na#":
            raise ValueError(f"OpenML task {instance!r} is not in {self.folder / 'encoding.json'}")
        return self.codes[instance]

    def predict(self, code: int, configs: np.ndarray, epochs: np.ndarray) -> np.ndarray:
        """The model's targets (n, 6) for rows of parameter values (n, 7; ``NAMES`` order) at ``epochs`` (n,).

        One call for all rows (the batched kernels, see the module's docstring); ``point`` is the exact path.
        """
        configs = np.asarray(configs, dtype=np.float64).reshape(-1, len(NAMES))
        x_cont = np.empty((len(configs), len(MODEL_INPUTS)), dtype=np.float32)
        for j, column in enumerate(COLUMNS):
            x_cont[:, j] = epochs if column < 0 else configs[:, column]
        x_cat = np.full((len(configs), 1), code, dtype=np.int32)
        return self.session.run(None, {"x_cat": x_cat, "x_cont": x_cont})[0]

    def point(self, code: int, values: tuple[float, ...], epoch: int) -> np.ndarray:
        """The targets of one configuration at one epoch, predicted as a single row (as the reference does)."""
        key = (code, values, epoch)
        found = self._points.get(key)
        if found is None:
            if len(self._points) >= CACHE_LIMIT:
                self._points.clear()  # values do not depend on the cache, so starting over changes none
            found = self._points[key] = self.predict(code, np.array(values), np.array([epoch]))[0]
        return found

    def train_time(self, code: int, values: tuple[float, ...], epoch: int) -> float:
        """The running maximum of the single-row ``time`` over epochs 1..``epoch``.

        The earlier epochs are predicted in one batch; only those whose batched time comes within
        ``TIME_MARGIN`` of the time at ``epoch`` are predicted again row by row. A batched time more than the
        margin below could only exceed the row's time if the two paths differed by more than the margin.
        """
        time = float(self.point(code, values, epoch)[0])
        if epoch == 1:
            return time
        key = (code, values)
        curve = self._curves.get(key)
        if curve is None or len(curve) < epoch - 1:
            if len(self._curves) >= CACHE_LIMIT:
                self._curves.clear()
            earlier = np.arange(1, epoch)
            curve = self._curves[key] = self.predict(code, np.tile(values, (len(earlier), 1)), earlier)[:, 0]
        suspects = np.flatnonzero(curve[: epoch - 1] >= time * (1 - TIME_MARGIN)) + 1
        return max([time, *(float(self.point(code, values, int(k))[0]) for k in suspects)])


@functools.lru_cache(maxsize=None)
def surrogate(folder: str) -> LCBenchSurrogate:
    """The process's one surrogate (and onnxruntime session) of ``folder``."""
    return LCBenchSurrogate(Path(folder))


def space(name: str) -> ConfigurationSpace:
    """The LCBench space without the task id and the epoch (YAHPO Gym's, with the domain's round bounds)."""
    from ConfigSpace import ConfigurationSpace, UniformFloatHyperparameter, UniformIntegerHyperparameter

    result = ConfigurationSpace(name=name)
    for p in PARAMETERS:
        kind = UniformIntegerHyperparameter if p.integer else UniformFloatHyperparameter
        result.add(kind(p.name, p.lower, p.upper, log=p.log))
    return result


def _in_space(config: Config) -> bool:
    if config.keys() != set(NAMES):
        return False
    for p in PARAMETERS:
        value = config[p.name]
        if isinstance(value, bool) or not isinstance(value, int if p.integer else (int, float)):
            return False
        if not p.lower <= value <= p.upper:
            return False
    return True


class LCBenchTask(Task):
    """``lcbench-<OpenML task id>``: validation error and log10 training time of a funnel MLP, epochs 1..52.

    Args:
        instance: the OpenML task id (one of ``LCBENCH_INSTANCES``).
        folder: YAHPO Gym's lcbench folder (model.onnx, encoding.json); default ``BOB_LCBENCH_DIR``. It is
            read at the first evaluation, so a task is built (and listed) without loading the model.
        promotion: "scratch" (default): an evaluation at epoch e costs the training time to e; "checkpoint":
            it costs the difference to the highest epoch this task object has trained the configuration to
            (nothing when that is e or more). A checkpoint counts from the evaluation's start, which is when
            the simulated clock's loop asks the task.
        reference: the bounds, reference point and best-known front (default: the shipped file).
    """

    clock = "simulated"

    def __init__(self, instance: str, folder: str | Path | None = None,
                 promotion: Literal["scratch", "checkpoint"] = "scratch",
                 reference: ReferenceRecord | None = None) -> None:
        if instance not in LCBENCH_INSTANCES:
            raise ValueError(f"unknown LCBench instance {instance!r}; known: {', '.join(LCBENCH_INSTANCES)}")
        if promotion not in ("scratch", "checkpoint"):
            raise ValueError(f"promotion must be 'scratch' or 'checkpoint', got {promotion!r}")
        self.instance = instance
        self.name = f"lcbench-{instance}"
        self.promotion = promotion
        if reference is None:
            from tasks.tables.reference import read_reference

            try:
                reference = read_reference(self.name)
            except FileNotFoundError:
                raise FileNotFoundError(f"{self.name}.json is missing from tabular_data; write it with: "
                                        f"python -m tasks.surrogates.lcbench --write {self.name}") from None
        self.reference = reference
        self.version = reference.version
        self.objectives = reference.objectives
        self.reference_point = reference.reference_point
        self.fidelity = Fidelity("epoch", 1, EPOCHS)
        self._folder = folder
        self._trained: dict[tuple[float, ...], int] = {}  # checkpoint: configuration -> highest epoch trained

    @functools.cached_property
    def space(self) -> ConfigurationSpace:
        return space(self.name)

    @functools.cached_property
    def surrogate(self) -> LCBenchSurrogate:
        model = surrogate(str(data_folder(self._folder)))
        if model.sha256 != self.reference.data_sha256:
            raise TaskDataError(
                f"task {self.name!r}: the surrogate in {model.folder} (sha256 {model.sha256[:12]}) is not the one its "
                f"reference record was computed from ({self.reference.data_sha256[:12]}); give yahpo_data v1.0.2's "
                f"lcbench folder, or rewrite the record: python -m tasks.surrogates.lcbench --write {self.name}")
        return model

    @functools.cached_property
    def _code(self) -> int:
        return self.surrogate.code(self.instance)

    def data_hash(self) -> str:
        # the record's hash: ``surrogate`` refuses a model with any other, so no evaluation reads other data
        return self.reference.data_sha256

    def describe(self) -> dict[str, Any]:
        return {**super().describe(), "promotion": self.promotion}

    def true_front(self) -> np.ndarray:
        """The best-known front (not a true one: the space is continuous), shape (points, objectives)."""
        return np.array(self.reference.front, dtype=float)

    def check_config(self, config: Mapping[str, Any]) -> Config:
        # the space is a box without conditions: checking each bound is the whole check, at a fraction of
        # ConfigSpace's cost; ConfigSpace explains a refusal
        checked = to_python(config)
        if not _in_space(checked):
            return super().check_config(config)
        return checked

    def _evaluate(self, config: Config, fidelity: float | None, seed: int) -> Result:
        epoch = EPOCHS if fidelity is None else int(fidelity)
        if epoch != fidelity and fidelity is not None:
            raise ValueError(f"task {self.name!r}: epoch must be a whole number, got {fidelity}")
        model, code = self.surrogate, self._code
        values = tuple(float(config[name]) for name in NAMES)
        targets = model.point(code, values, epoch)
        train_time = model.train_time(code, values, epoch)
        if not train_time > 0:
            return Result.failure(f"the surrogate predicts a training time of {train_time:g} s")
        cost = train_time
        info: dict[str, Any] = {"epoch": epoch, "surrogate_time_s": float(targets[0])}
        if self.promotion == "checkpoint":
            done = self._trained.get(values, 0)
            cost = max(train_time - (model.train_time(code, values, done) if done else 0.0), 0.0)
            self._trained[values] = max(done, epoch)
            info["checkpoint_epoch"] = done
        objectives = {"error": 1.0 - float(targets[1]) / 100.0, "log10_train_time": math.log10(train_time)}
        return Result(objectives=objectives, cost_s=cost, info=info)


# --- the best-known front ------------------------------------------------------------------------------

def sample_configs(n: int = FRONT_SAMPLE, seed: int = FRONT_SEED) -> np.ndarray:
    """A fixed space-filling sample (n, 7; ``NAMES`` order): scrambled Sobol points mapped to the space
    (log-uniform where the parameter is log-scaled, integers rounded as YAHPO's trafo does)."""
    from scipy.stats import qmc

    # the first n points of a power-of-two draw: the same points as random(n), without Sobol's balance warning
    unit = qmc.Sobol(d=len(PARAMETERS), scramble=True, seed=seed).random_base2(max(0, math.ceil(math.log2(n))))[:n]
    columns = []
    for j, p in enumerate(PARAMETERS):
        low, high = (math.log(p.lower), math.log(p.upper)) if p.log else (p.lower, p.upper)
        if p.integer and not p.log:  # equal widths per integer
            column = np.minimum(np.floor(p.lower + unit[:, j] * (p.upper - p.lower + 1)), p.upper)
        else:
            column = low + unit[:, j] * (high - low)
            column = np.exp(column) if p.log else column
            column = np.clip(np.round(column), p.lower, p.upper) if p.integer else column
        columns.append(column)
    return np.column_stack(columns)


def _dominated_with_margin(points: np.ndarray, front: np.ndarray, margin: np.ndarray) -> np.ndarray:
    """Whether each point is weakly dominated by some ``front + margin`` (chunks keep memory small)."""
    shifted = front + margin
    out = np.empty(len(points), dtype=bool)
    for start in range(0, len(points), 4096):
        chunk = points[start:start + 4096]
        out[start:start + 4096] = (shifted[None, :, :] <= chunk[:, None, :]).all(axis=2).any(axis=1)
    return out


def best_known(task: LCBenchTask, n: int = FRONT_SAMPLE, seed: int = FRONT_SEED) -> ReferenceRecord:
    """The task's record: bounds and best-known front over ``n`` sampled configurations at every epoch.

    Vectorised through the model (batches), then made exact: a point whose batched values are not dominated
    by a batched front point shifted by (``ERROR_MARGIN``, log10(1 + ``TIME_MARGIN``)) is evaluated by the
    task itself, and the front is taken over those values. A point of the exact front is always such a
    candidate as long as the margins exceed twice the batch/row difference.
    """
    import moocore

    from tasks.tables.reference import REFERENCE_POINT

    model, code = task.surrogate, task._code
    configs = sample_configs(n, seed)
    epochs = np.arange(1, EPOCHS + 1)
    time = np.empty((n, EPOCHS))
    accuracy = np.empty((n, EPOCHS))
    per_call = max(1, 65536 // EPOCHS)
    for start in range(0, n, per_call):
        block = configs[start:start + per_call]
        out = model.predict(code, np.repeat(block, EPOCHS, axis=0), np.tile(epochs, len(block)))
        time[start:start + len(block)] = out[:, 0].reshape(len(block), EPOCHS)
        accuracy[start:start + len(block)] = out[:, 1].reshape(len(block), EPOCHS)
    train = np.maximum.accumulate(time, axis=1)
    if not (train > 0).all():
        raise TaskDataError(f"task {task.name!r}: the surrogate predicts a training time <= 0 in the sample")
    batched = np.column_stack([(1.0 - accuracy / 100.0).ravel(), np.log10(train).ravel()])
    front = batched[moocore.is_nondominated(batched)]
    margin = np.array([ERROR_MARGIN, math.log10(1.0 + TIME_MARGIN)])
    candidates = np.flatnonzero(~_dominated_with_margin(batched, front, margin))
    exact = np.array([list(task.evaluate(dict(zip(NAMES, _typed(configs[i // EPOCHS]))), i % EPOCHS + 1)
                           .objectives.values()) for i in candidates])
    exact_front = np.unique(exact[moocore.is_nondominated(exact, keep_weakly=False)], axis=0)
    everything = np.vstack([batched, exact])
    scale = 10.0 ** BOUND_DECIMALS
    lower = np.floor(everything.min(axis=0) * scale) / scale
    upper = np.ceil(everything.max(axis=0) * scale) / scale
    return ReferenceRecord(
        task=task.name, version=VERSION, data_sha256=model.sha256,
        objectives=tuple(Objective(name, float(lo), float(hi), unit)
                         for (name, unit), lo, hi in zip(OBJECTIVES, lower, upper)),
        reference_point=(REFERENCE_POINT,) * len(OBJECTIVES),
        front=tuple(tuple(point) for point in exact_front.tolist()),
        front_kind="best-known",
    )


def _typed(row: np.ndarray) -> list[float | int]:
    return [int(v) if p.integer else float(v) for p, v in zip(PARAMETERS, row)]


def unbound_task(instance: str, folder: str | Path | None = None, **options: Any) -> LCBenchTask:
    """A task whose record is being computed: placeholder bounds and front, the model's hash (``options`` as
    in ``LCBenchTask``)."""
    model = surrogate(str(data_folder(folder)))
    placeholder = ReferenceRecord(task=f"lcbench-{instance}", version=VERSION, data_sha256=model.sha256,
                                  objectives=tuple(Objective(name, 0.0, 1.0, unit) for name, unit in OBJECTIVES),
                                  reference_point=(1.1, 1.1), front=(), front_kind="best-known")
    return LCBenchTask(instance, folder, reference=placeholder, **options)


DESCRIPTION = "LCBench (YAHPO Gym 1.0.2 surrogate) on OpenML task {}: validation error and log10 training time"
SOURCE = ("yahpo_data v1.0.2 lcbench/model.onnx (Apache-2.0), best-known front over a scrambled Sobol sample "
          "of {} configurations x 52 epochs (seed {})")


def record_json(record: ReferenceRecord, n: int = FRONT_SAMPLE, seed: int = FRONT_SEED) -> dict[str, Any]:
    from tasks.tables.reference import to_json

    instance = record.task.removeprefix("lcbench-")
    return to_json(record, DESCRIPTION.format(instance), SOURCE.format(n, seed))


def _same(shipped: dict[str, Any], computed: dict[str, Any]) -> bool:
    """Equal files, the front compared to 1e-9 relative (the last bits of a float may differ by CPU)."""
    if {k: v for k, v in shipped.items() if k != "front"} != {k: v for k, v in computed.items() if k != "front"}:
        return False
    a, b = np.array(shipped["front"], dtype=float), np.array(computed["front"], dtype=float)
    return a.shape == b.shape and np.allclose(a, b, rtol=1e-9, atol=0.0)


def main(argv: Sequence[str] | None = None) -> int:
    import tabular_data
    from tasks.command_line import OneLineParser, existing_folder

    parser = OneLineParser(prog="python -m tasks.surrogates.lcbench",
                           description="Check or write tabular_data/lcbench-<id>.json (bounds, best-known front).")
    parser.add_argument("--write", action="store_true", help="write the files (default: check them)")
    parser.add_argument("--folder", type=existing_folder, default=None,
                        help=f"YAHPO Gym's lcbench folder (default: ${LCBENCH_ENV})")
    parser.add_argument("tasks", nargs="*", default=[f"lcbench-{i}" for i in LCBENCH_INSTANCES],
                        help="task names (default: all 34)")
    args = parser.parse_args(argv)
    unknown = [name for name in args.tasks if name.removeprefix("lcbench-") not in LCBENCH_INSTANCES]
    if unknown:
        parser.error(f"unknown LCBench task {', '.join(map(repr, unknown))}; known: lcbench-<id> with id one of "
                     f"{', '.join(LCBENCH_INSTANCES)}")
    try:
        data_folder(args.folder)
    except TaskDataError as error:
        parser.error(str(error))
    stale = []
    for name in args.tasks:
        record = record_json(best_known(unbound_task(name.removeprefix("lcbench-"), args.folder)))
        path = tabular_data.FOLDER / f"{name}.json"
        if args.write:
            path.write_text(json.dumps(record, indent=1) + "\n")
            print(f"wrote {path.name}: {len(record['front'])} front points", flush=True)
        elif not path.exists() or not _same(json.loads(path.read_text()), record):
            stale.append(name)
    if stale:
        print(f"out of date: {', '.join(stale)} (run: python -m tasks.surrogates.lcbench --write {' '.join(stale)})")
        return 1
    print(f"{len(args.tasks)} LCBench reference files match the surrogate")
    return 0


if __name__ == "__main__":
    sys.exit(main())
