"""The suite's grid: which baselines, tasks, seeds and budget; read from flags or a YAML/TOML file."""

from __future__ import annotations

import json
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from baselines import BASELINES
from baselines.base import OptionError
from suite.cluster import ClusterConfig, TLSConfig, parse_cluster, parse_tls
from suite.spec import Budget, RunSpec
from tasks import TASKS
from tasks.registry import Registry

DEFAULT_TASKS = ("fcnet-naval", "hpobench-mlp-vehicle", "nb201-cifar10")
DEFAULT_SEEDS = 3
DEFAULT_BUDGET = 100


class ConfigError(ValueError):
    """A suite configuration the user must fix; its message is the one line shown."""


@dataclass(frozen=True)
class SuiteConfig:
    """One suite: the grid baselines x tasks x seeds, each run with the same budget."""

    baselines: tuple[str, ...] = ()
    tasks: tuple[str, ...] = DEFAULT_TASKS
    seeds: tuple[int, ...] = tuple(range(DEFAULT_SEEDS))
    budget: Budget = field(default_factory=lambda: Budget(evaluations=DEFAULT_BUDGET))
    workers: int = 1
    experiment: str = "default"
    results: Path = Path("results")
    dask_workers: int | None = None
    plugins: tuple[str, ...] = ()
    baseline_options: dict[str, dict[str, Any]] = field(default_factory=dict)
    cluster: ClusterConfig = field(default_factory=ClusterConfig)
    scheduler: str | None = None
    eval_timeout_s: float | None = None
    resources: dict[str, float] = field(default_factory=dict)
    tls: TLSConfig | None = None

    def runs(self) -> list[RunSpec]:
        return [
            RunSpec(baseline=b, task=t, seed=s, budget=self.budget, n_workers=self.workers,
                    options=dict(self.baseline_options.get(b, {})), experiment=self.experiment,
                    eval_timeout_s=self.eval_timeout_s, resources=dict(self.resources))
            for t in self.tasks for b in self.baselines for s in self.seeds
        ]


#: the keys a config file may hold; each one is also a command-line flag (with - for _)
KEYS = {
    "baselines": "list of baseline names (default: every registered baseline)",
    "tasks": "list of task names",
    "seeds": "number of seeds (0..N-1) or a list of seeds",
    "budget": "evaluations per run; with budget_seconds, whichever comes first ends the run",
    "budget_seconds": "seconds of the run's clock per run (simulated for tabular tasks); with budget, whichever "
                      "comes first ends the run",
    "workers": "parallel workers inside one run (virtual workers on the simulated clock)",
    "experiment": "name of the experiment folder under results",
    "results": "results root folder",
    "dask_workers": "Dask worker processes of the local cluster (default: number of cores)",
    "plugins": "modules to import so that their @register lines add baselines or tasks",
    "baseline_options": "mapping baseline name -> its options",
    "cluster": "local (default), slurm, pbs, sge or lsf; or a mapping: kind plus batch options "
               "(cores, memory, walltime, queue, jobs, gpus, job_extra_directives, ...)",
    "scheduler": "address (tcp://HOST:PORT) or scheduler JSON file of an existing Dask cluster",
    "eval_timeout_s": "seconds after which a live evaluation is recorded with status timeout",
    "resources": "Dask worker resources every live evaluation holds, e.g. {GPU: 1}",
    "tls": "mapping ca_file, cert, key: TLS certificates for a shared scheduler (tls://...)",
}


def read_config_file(path: Path) -> dict[str, Any]:
    if not path.exists():
        raise ConfigError(f"config file {path} does not exist")
    text = path.read_text()
    try:
        if path.suffix == ".toml":
            data = tomllib.loads(text)
        elif path.suffix in (".yaml", ".yml"):
            data = yaml.safe_load(text) or {}
        elif path.suffix == ".json":
            data = json.loads(text)
        else:
            raise ConfigError(f"config file {path}: use .yaml, .yml, .toml or .json")
    except (tomllib.TOMLDecodeError, yaml.YAMLError, json.JSONDecodeError) as error:
        raise ConfigError(f"config file {path} cannot be parsed: {str(error).splitlines()[0]}") from None
    if not isinstance(data, dict):
        raise ConfigError(f"config file {path}: expected a mapping of keys, got {type(data).__name__}")
    unknown = sorted(set(data) - set(KEYS))
    if unknown:
        raise ConfigError(f"config file {path}: unknown key(s) {', '.join(unknown)}; known: {', '.join(KEYS)}")
    return data


def _names(value: Any, key: str) -> tuple[str, ...]:
    if isinstance(value, str):
        value = [v.strip() for v in value.split(",") if v.strip()]
    if not isinstance(value, (list, tuple)) or not all(isinstance(v, str) for v in value) or not value:
        raise ConfigError(f"{key}: expected a non-empty list of names, got {value!r}")
    if len(set(value)) != len(value):
        raise ConfigError(f"{key}: a name is listed twice in {list(value)!r}")
    return tuple(value)


def _check_known(names: tuple[str, ...], registry: Registry[Any], key: str) -> None:
    for name in names:
        if name not in registry:
            raise ConfigError(f"{key}: unknown {registry.kind} {name!r}; registered: {', '.join(registry.names())}")


def _check_options(baseline: str, options: dict[str, Any]) -> None:
    """Every option of every baseline is checked before any run starts, not on a worker when its run starts."""
    try:
        BASELINES.get(baseline).check_options(options)
    except OptionError as error:
        raise ConfigError(f"baseline_options: {error}") from None


def _positive_int(value: Any, key: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ConfigError(f"{key}: expected a positive integer, got {value!r}")
    return value


def build_config(values: dict[str, Any]) -> SuiteConfig:
    """A validated SuiteConfig from flag or file values (None = not given); plugins are loaded first."""
    given = {k: v for k, v in values.items() if v is not None}
    plugins = given.get("plugins", ())
    plugins = (plugins,) if isinstance(plugins, str) else plugins
    if not isinstance(plugins, (list, tuple)) or not all(isinstance(p, str) for p in plugins):
        raise ConfigError(f"plugins: expected a list of module names, got {plugins!r}")
    plugins = tuple(plugins)
    for module in plugins:
        try:
            Registry.load_module(module)
        except ImportError as error:
            raise ConfigError(f"plugins: cannot import {module!r}: {error}") from None
    kwargs: dict[str, Any] = {"plugins": plugins}
    kwargs["baselines"] = _names(given["baselines"], "baselines") if "baselines" in given else tuple(BASELINES.names())
    _check_known(kwargs["baselines"], BASELINES, "baselines")
    if "tasks" in given:
        kwargs["tasks"] = _names(given["tasks"], "tasks")
    _check_known(kwargs.get("tasks", DEFAULT_TASKS), TASKS, "tasks")
    if "seeds" in given:
        seeds = given["seeds"]
        if isinstance(seeds, list):
            if not seeds or not all(isinstance(s, int) and not isinstance(s, bool) and s >= 0 for s in seeds):
                raise ConfigError(f"seeds: expected a list of non-negative integers, got {seeds!r}")
            if len(set(seeds)) != len(seeds):
                raise ConfigError(f"seeds: a seed is listed twice in {seeds!r}")
            kwargs["seeds"] = tuple(seeds)
        else:
            kwargs["seeds"] = tuple(range(_positive_int(seeds, "seeds")))
    evaluations = _positive_int(given["budget"], "budget") if "budget" in given else None
    seconds = given.get("budget_seconds")
    if seconds is not None and (isinstance(seconds, bool) or not isinstance(seconds, (int, float)) or seconds <= 0):
        raise ConfigError(f"budget_seconds: expected a positive number, got {seconds!r}")
    if evaluations is not None or seconds is not None:
        kwargs["budget"] = Budget(evaluations=evaluations, seconds=seconds)
    for key in ("workers", "dask_workers"):
        if key in given:
            kwargs[key] = _positive_int(given[key], key)
    if "experiment" in given:
        experiment = str(given["experiment"])
        if not experiment or "/" in experiment or experiment.startswith("."):
            raise ConfigError(f"experiment: expected a folder name, got {experiment!r}")
        kwargs["experiment"] = experiment
    if "results" in given:
        if not isinstance(given["results"], (str, Path)):
            raise ConfigError(f"results: expected a folder path, got {given['results']!r}")
        kwargs["results"] = Path(given["results"])
    if "baseline_options" in given:
        options = given["baseline_options"]
        if not isinstance(options, dict) or not all(isinstance(v, dict) for v in options.values()):
            raise ConfigError("baseline_options: expected a mapping of baseline name -> mapping of options")
        _check_known(tuple(options), BASELINES, "baseline_options")
        for name, opts in options.items():
            _check_options(name, opts)
        kwargs["baseline_options"] = options
    kwargs.update(_cluster_values(given))
    return SuiteConfig(**kwargs)


def _cluster_values(given: dict[str, Any]) -> dict[str, Any]:
    kwargs: dict[str, Any] = {}
    try:
        if "cluster" in given:
            kwargs["cluster"] = parse_cluster(given["cluster"])
        if "tls" in given:
            kwargs["tls"] = parse_tls(given["tls"])
    except ValueError as error:
        raise ConfigError(str(error)) from None
    if "scheduler" in given:
        scheduler = given["scheduler"]
        if not isinstance(scheduler, str) or not (
                "://" in scheduler or re.fullmatch(r"[\w.\-]+:\d+", scheduler) or Path(scheduler).is_file()):
            raise ConfigError(f"scheduler: expected an address (tcp://HOST:PORT) or an existing scheduler file, "
                              f"got {scheduler!r}")
        if kwargs.get("cluster", ClusterConfig()).kind != "local":
            raise ConfigError("give either scheduler (an existing cluster) or a batch cluster kind, not both")
        kwargs["scheduler"] = given["scheduler"]
    if "eval_timeout_s" in given:
        timeout = given["eval_timeout_s"]
        if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or not timeout > 0:
            raise ConfigError(f"eval_timeout_s: expected a positive number of seconds, got {timeout!r}")
        kwargs["eval_timeout_s"] = float(timeout)
    if "resources" in given:
        resources = given["resources"]
        if not isinstance(resources, dict) or not all(
                isinstance(k, str) and isinstance(v, (int, float)) and not isinstance(v, bool) and v > 0
                for k, v in resources.items()):
            raise ConfigError(f"resources: expected a mapping of name -> positive amount, e.g. {{GPU: 1}}, "
                              f"got {resources!r}")
        if "scheduler" not in kwargs and kwargs.get("cluster", ClusterConfig()).kind == "local":
            # the suite's own local workers offer no resources: evaluations would wait for ever
            raise ConfigError("resources: the local cluster's workers offer none; use them with scheduler (workers "
                              "started with --resources GPU=1) or a batch cluster with gpus")
        kwargs["resources"] = dict(resources)
    return kwargs
