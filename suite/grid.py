"""The suite's grid: which baselines, tasks, seeds and budget; read from flags or a YAML/TOML file."""

from __future__ import annotations

import json
import os
import re
import tempfile
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from suite.cluster import ClusterConfig, TLSConfig, parse_cluster, parse_tls
from suite.spec import Budget, RunSpec

if TYPE_CHECKING:
    from tasks.registry import Registry

# baselines and tasks (torch, SMAC, every table) are imported only once the cheap values are checked:
# a mistyped value or path answers in well under a second

DEFAULT_TASKS = ("fcnet-naval", "hpobench-mlp-vehicle", "nb201-cifar10")
#: the design card's five: the default job keeps its time goal. The other built-in baselines (GP- and
#: BoTorch-based ones cost seconds a trial) run when named, or all of them with ``baselines: all``;
#: a plug-in's baselines join the default set, since plugging one in is asking to compare it.
DEFAULT_BASELINES = ("mo_bohb", "motpe", "nsga2", "parego", "random_search")
DEFAULT_SEEDS = 3
DEFAULT_BUDGET = 100
#: more seeds than this is a typo (every seed is one run per baseline and task), not an experiment
MAX_SEEDS = 10_000
#: a YAML 1.1 float needs a dot and a signed exponent (1.0e+3): ``1e3`` is read as the text '1e3'
_NUMBER_TEXT = re.compile(r"[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?|[-+]?(inf|nan)", re.IGNORECASE)


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
    #: label -> registered baseline name, for the entries of ``baselines`` that are labelled variants
    registered: dict[str, str] = field(default_factory=dict)
    cluster: ClusterConfig = field(default_factory=ClusterConfig)
    scheduler: str | None = None
    eval_timeout_s: float | None = None
    resources: dict[str, float] = field(default_factory=dict)
    tls: TLSConfig | None = None

    def runs(self) -> list[RunSpec]:
        return [
            RunSpec(baseline=b, task=t, seed=s, budget=self.budget, n_workers=self.workers,
                    options=dict(self.baseline_options.get(b, {})), experiment=self.experiment,
                    registered=self.registered.get(b, b),
                    eval_timeout_s=self.eval_timeout_s, resources=dict(self.resources))
            for t in self.tasks for b in self.baselines for s in self.seeds
        ]


#: the keys a config file may hold; each one is also a command-line flag (with - for _)
KEYS = {
    "baselines": "list of baseline names, or all (default: " + ", ".join(DEFAULT_BASELINES)
                 + " and every plug-in baseline); an entry LABEL=NAME@OPTION=VALUE@... (or a mapping label, "
                   "baseline, options) runs baseline NAME with its own options under LABEL",
    "tasks": "list of task names",
    "seeds": "number of seeds (0..N-1) or a list of seeds",
    "budget": "evaluations per run; with budget_seconds, whichever comes first ends the run",
    "budget_seconds": "seconds of the run's clock per run (simulated for tabular tasks); with budget, whichever "
                      "comes first ends the run",
    "workers": "parallel workers inside one run (virtual workers on the simulated clock)",
    "experiment": "name of the experiment folder under results",
    "results": "results root folder",
    "dask_workers": "Dask workers of the local cluster (default: one per run, at most the cores; one runs here)",
    "plugins": "modules to import so that their @register lines add baselines or tasks",
    "baseline_options": "mapping baseline name (or label) -> its options",
    "cluster": "local (default), slurm, pbs, sge or lsf; or a mapping: kind plus batch options "
               "(cores, memory, walltime, queue, jobs, gpus, job_extra_directives, ...)",
    "scheduler": "address (tcp://HOST:PORT) or scheduler JSON file of an existing Dask cluster",
    "eval_timeout_s": "seconds after which a live evaluation is recorded with status timeout",
    "resources": "Dask worker resources every live evaluation holds, e.g. {GPU: 1}",
    "tls": "mapping ca_file, cert, key: TLS certificates for a shared scheduler (tls://...)",
}


def read_config_file(path: Path) -> dict[str, Any]:
    """The keys of a .yaml/.yml/.toml/.json config file; ConfigError names the file and what to fix."""
    if not path.exists():
        raise ConfigError(f"config file {path} does not exist")
    if path.is_dir():
        raise ConfigError(f"config file {path} is a folder; give a .yaml, .toml or .json file")
    if path.suffix not in (".toml", ".yaml", ".yml", ".json"):
        raise ConfigError(f"config file {path}: use .yaml, .yml, .toml or .json")
    try:
        text = path.read_bytes().decode("utf-8")
    except UnicodeDecodeError as error:
        raise ConfigError(f"config file {path} is not UTF-8 text (byte {error.object[error.start]:#04x} at "
                          f"offset {error.start}); save it as UTF-8") from None
    except OSError as error:
        raise ConfigError(f"config file {path} cannot be read: {error.strerror}") from None
    try:
        if path.suffix == ".toml":
            data = tomllib.loads(text)
        elif path.suffix == ".json":
            data = json.loads(text, object_pairs_hook=_mapping_without_repeats)
        else:
            data = yaml.load(text, Loader=_YamlWithoutRepeats) or {}  # noqa: S506 (a SafeLoader)
    except (tomllib.TOMLDecodeError, yaml.YAMLError, json.JSONDecodeError) as error:
        raise ConfigError(f"config file {path} cannot be parsed: {' '.join(str(error).split())}") from None
    except _RepeatedKey as error:  # YAML and JSON keep the last of two equal keys without a word
        raise ConfigError(f"config file {path}: key {error.args[0]!r} is given twice; keep one") from None
    if not isinstance(data, dict):
        raise ConfigError(f"config file {path}: expected a mapping of keys, got {type(data).__name__}")
    empty = sorted(key for key, value in data.items() if value is None)
    if empty:  # `budget:` alone is YAML's null: taken as not given, the default would run in its place
        raise ConfigError(f"config file {path}: {', '.join(empty)} has no value; give one or delete the line")
    unknown = sorted(set(data) - set(KEYS))
    if unknown:
        raise ConfigError(f"config file {path}: unknown key(s) {', '.join(unknown)}; known: {', '.join(KEYS)}")
    return data


class _RepeatedKey(Exception):
    """A key given twice in one mapping of a config file."""


def _mapping_without_repeats(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    mapping: dict[str, Any] = {}
    for key, value in pairs:
        if key in mapping:
            raise _RepeatedKey(key)
        mapping[key] = value
    return mapping


class _YamlWithoutRepeats(yaml.SafeLoader):
    """YAML's safe loader, refusing a key given twice in one mapping."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        # a merge key (<<) brings keys that the mapping's own may override: only its own are compared
        keys = [self.construct_object(key_node, deep=deep) for key_node, _ in node.value
                if key_node.tag != "tag:yaml.org,2002:merge"]
        repeated = [key for i, key in enumerate(keys) if key in keys[:i]]
        if repeated:
            raise _RepeatedKey(repeated[0])
        return super().construct_mapping(node, deep=deep)


def _names(value: Any, key: str) -> tuple[str, ...]:
    if isinstance(value, str):
        value = [v.strip() for v in value.split(",") if v.strip()]
    if not isinstance(value, (list, tuple)) or not all(isinstance(v, str) for v in value) or not value:
        raise ConfigError(f"{key}: expected a non-empty list of names, got {value!r}")
    if len(set(value)) != len(value):
        raise ConfigError(f"{key}: a name is listed twice in {list(value)!r}")
    return tuple(value)


#: a label names a folder of every run: letters, digits and _ . + -, starting with a letter or digit (so no
#: path separator, no "." or ".."); "all" is the keyword for every baseline
_LABEL = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.+-]*")
RESERVED_LABELS = ("all",)


#: the brackets of a YAML flow value (a list, a mapping): a separator inside them is part of the value
_BRACKETS = {"[": "]", "{": "}"}


def split_entry(text: str, separator: str) -> list[str]:
    """``text`` cut at each ``separator`` outside brackets and quotes: ``a,b=nsga2@x=[1,2]`` is two entries.

    Own code: ``str.split`` cuts inside a value, and ``shlex`` and ``csv`` know quotes but not brackets. A quote
    opens a string only where a YAML value starts (at the start, or after ``= , @ [ { :`` or a space), so an
    apostrophe inside a word is a letter. Raises ConfigError, naming the text, for an unbalanced bracket or quote.
    """
    parts: list[str] = []
    start, opened, quote, escaped = 0, [], "", False  # opened: the brackets open at this point
    for i, char in enumerate(text):
        if quote:
            if escaped:
                escaped = False
            elif char == "\\" and quote == '"':
                escaped = True
            elif char == quote:
                quote = ""
        elif char in "'\"" and (i == 0 or text[i - 1] in "=,@[{: "):
            quote = char
        elif char in _BRACKETS:
            opened.append(char)
        elif char in "]}":
            if not opened or _BRACKETS[opened.pop()] != char:
                raise ConfigError(f"baselines: {text!r}: a {char!r} that closes no bracket; brackets and quotes "
                                  "in an entry must pair up")
        elif char == separator and not opened:
            parts.append(text[start:i])
            start = i + 1
    if quote or opened:
        raise ConfigError(f"baselines: {text!r}: an unclosed {quote or opened[-1]!r}; brackets and quotes in an "
                          "entry must pair up")
    parts.append(text[start:])
    return parts


@dataclass(frozen=True)
class Variant:
    """One entry of ``baselines``: the registered baseline ``baseline`` run with ``options`` under ``label``, the
    name its result folders, the analysis and the figures show. A plain name is its own label."""

    label: str
    baseline: str
    options: dict[str, Any] = field(default_factory=dict)


def parse_variant(entry: Any) -> Variant:
    """An entry of ``baselines``: a name, ``LABEL=NAME@OPTION=VALUE@...`` (values read as YAML: true, 3, 0.5, text,
    [1, 2]; an @ or a comma inside a value stays in it within brackets or quotes, ``split_entry``) or a mapping
    with ``label``, ``baseline`` and ``options``. Names are checked by ``build_config``."""
    if isinstance(entry, dict):
        if not {"label", "baseline"} <= entry.keys() or not entry.keys() <= {"label", "baseline", "options"}:
            raise ConfigError(f"baselines: an entry given as a mapping has the keys label, baseline and options "
                              f"(optional), got {entry!r}")
        label, name, options = entry["label"], entry["baseline"], entry.get("options", {})
        if not isinstance(label, str) or not isinstance(name, str) or not isinstance(options, dict):
            raise ConfigError(f"baselines: expected label and baseline names and a mapping of options, got {entry!r}")
    elif isinstance(entry, str):
        if "=" not in entry:
            return Variant(entry.strip(), entry.strip())
        head, *pairs = split_entry(entry, "@")
        label, equals, name = head.partition("=")
        if not equals:
            raise ConfigError(f"baselines: {entry!r}: expected LABEL=NAME@OPTION=VALUE@..., got {head!r}")
        options = {}
        for pair in pairs:
            key, equals, value = (part.strip() for part in pair.partition("="))
            if not equals or not key or not value:
                raise ConfigError(f"baselines: {entry!r}: expected LABEL=NAME@OPTION=VALUE@..., got {pair!r}")
            if key in options:
                raise ConfigError(f"baselines: {entry!r}: option {key} is given twice")
            try:
                options[key] = yaml.safe_load(value)
            except yaml.YAMLError:
                raise ConfigError(f"baselines: {entry!r}: option {key} has a value {value!r} that is no YAML "
                                  "value") from None
    else:
        raise ConfigError(f"baselines: expected a name, LABEL=NAME@OPTION=VALUE or a mapping, got {entry!r}")
    label, name = label.strip(), name.strip()
    if not _LABEL.fullmatch(label) or label in RESERVED_LABELS:
        raise ConfigError(f"baselines: the label {label!r} must be a folder name of letters, digits and _ . + - "
                          f"that starts with a letter or digit, not {', '.join(RESERVED_LABELS)}")
    return Variant(label, name, dict(options))


def _baselines(value: Any) -> list[Variant]:
    """The baselines a config names: its list, ``all`` (every registered one) or, unset, the default set."""
    from baselines import BASELINES, BUILT_IN

    if value is None:
        names = DEFAULT_BASELINES + tuple(n for n in BASELINES.names() if n not in BUILT_IN)
    elif value == "all" or value == ["all"]:
        names = tuple(BASELINES.names())
    else:
        if isinstance(value, str):
            value = [v for v in split_entry(value, ",") if v.strip()]
        if not isinstance(value, (list, tuple)) or not value:
            raise ConfigError(f"baselines: expected a non-empty list of names, got {value!r}")
        variants = [parse_variant(entry) for entry in value]
        labels = [v.label for v in variants]
        repeated = sorted({label for i, label in enumerate(labels) if label in labels[:i]})
        if repeated:
            raise ConfigError(f"baselines: a name is listed twice ({', '.join(repeated)}); give each entry its own "
                              "label")
        return variants
    return [Variant(name, name) for name in names]


def _check_known(names: tuple[str, ...], registry: Registry[Any], key: str) -> None:
    from tasks.registry import PluginError, UnknownNameError

    for name in names:
        try:
            registry.get(name)
        except (UnknownNameError, PluginError) as error:
            raise ConfigError(f"{key}: {error}") from None


def _text_hint(value: Any) -> str:
    """Why a number arrived as text, when it did: YAML reads 1e3 as a string, TOML and JSON keep quotes."""
    if isinstance(value, str) and _NUMBER_TEXT.fullmatch(value.strip()):
        return (f" (the text {value!r}, not a number: YAML reads 1e3 as text, write 1000 or 1.0e+3; "
                "and write numbers without quotes)")
    return ""


def _check_options(baseline: str, options: dict[str, Any], key: str = "baseline_options") -> None:
    """Every option of every baseline is checked before any run starts, not on a worker when its run starts."""
    from baselines import BASELINES, OptionError

    try:
        BASELINES.get(baseline).check_options(options)
    except OptionError as error:
        hints = [_text_hint(v) for v in options.values() if _text_hint(v)]
        raise ConfigError(f"{key}: {error}{hints[0] if hints else ''}") from None


def _positive_int(value: Any, key: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ConfigError(f"{key}: expected a positive integer, got {value!r}{_text_hint(value)}")
    return value


def _positive_number(value: Any, key: str, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0:
        raise ConfigError(f"{key}: expected a positive number{what}, got {value!r}{_text_hint(value)}")
    return float(value)


def load_plugins(value: Any) -> tuple[str, ...]:
    """Import the plug-in modules or files (``plugins:``, ``--plugin``); ConfigError names a broken one."""
    from tasks.registry import PluginError, Registry

    plugins = (value,) if isinstance(value, str) else (() if value is None else value)
    if not isinstance(plugins, (list, tuple)) or not all(isinstance(p, str) for p in plugins):
        raise ConfigError(f"plugins: expected a list of module names, got {plugins!r}")
    # a file is passed on by its absolute path: Dask workers import it from their own working folder
    plugins = tuple(str(Path(p).resolve()) if p.endswith(".py") else p for p in plugins)
    for module in plugins:
        try:
            Registry.load_module(module)
        except PluginError as error:
            raise ConfigError(f"plugins: {error}") from None
    return plugins


def check_results_folder(folder: Path) -> None:
    """Refuse a results folder that cannot be made or written, before any run starts (not at its first row)."""
    existing = folder
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if existing == folder and not folder.is_dir():
        raise ConfigError(f"results: {folder} is a file, not a folder; give a folder path")
    if not existing.is_dir():
        raise ConfigError(f"results: {folder} lies under the file {existing}; give a folder path")
    try:  # a real probe: permissions, a read-only mount and /proc all answer the same way, root or not
        os.rmdir(tempfile.mkdtemp(prefix=".write-check-", dir=existing))
    except OSError as error:
        raise ConfigError(f"results: cannot write in {existing} ({error.strerror or error}); "
                          "give a writable folder") from None


def build_config(values: dict[str, Any]) -> SuiteConfig:
    """A validated SuiteConfig from flag or file values (None = not given).

    Plain values (numbers, paths, cluster) are checked first, then plug-ins are loaded and names and
    baseline options checked against the registries, so every mistake surfaces before any run starts.
    """
    given = {k: v for k, v in values.items() if v is not None}
    kwargs: dict[str, Any] = {}
    if "seeds" in given:
        seeds = given["seeds"]
        n_seeds = len(seeds) if isinstance(seeds, list) else seeds
        if isinstance(n_seeds, int) and n_seeds > MAX_SEEDS:  # before the seeds are made: 10**9 fill the memory
            raise ConfigError(f"seeds: at most {MAX_SEEDS:,} seeds (each is one run per baseline and task), "
                              f"got {n_seeds:,}")
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
    if seconds is not None:
        seconds = _positive_number(seconds, "budget_seconds", " of seconds")
    if evaluations is not None or seconds is not None:
        try:
            kwargs["budget"] = Budget(evaluations=evaluations, seconds=seconds)
        except ValueError as error:
            raise ConfigError(str(error)) from None
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
    check_results_folder(kwargs.get("results", SuiteConfig.results) / kwargs.get("experiment", SuiteConfig.experiment))
    kwargs.update(_cluster_values(given))
    if "baseline_options" in given:
        options = given["baseline_options"]
        if not isinstance(options, dict) or not all(isinstance(v, dict) for v in options.values()):
            raise ConfigError("baseline_options: expected a mapping of baseline name -> mapping of options")

    kwargs["plugins"] = load_plugins(given.get("plugins"))
    from baselines import BASELINES
    from tasks import TASKS

    variants = _baselines(given.get("baselines"))
    _check_known(tuple(v.baseline for v in variants), BASELINES, "baselines")
    for variant in variants:
        if variant.label != variant.baseline and variant.label in BASELINES.names():
            raise ConfigError(f"baselines: the label {variant.label!r} is the name of another registered baseline; "
                              f"give {variant.baseline} another label")
        if variant.options:
            _check_options(variant.baseline, variant.options, f"baselines: {variant.label}")
    kwargs["baselines"] = tuple(v.label for v in variants)
    kwargs["registered"] = {v.label: v.baseline for v in variants if v.label != v.baseline}
    if "tasks" in given:
        kwargs["tasks"] = _names(given["tasks"], "tasks")
    _check_known(kwargs.get("tasks", DEFAULT_TASKS), TASKS, "tasks")
    options = {v.label: v.options for v in variants if v.options}
    # keyed by label: a variant's label, or a registered name (listed or not, as before variants)
    for name, opts in given.get("baseline_options", {}).items():
        if name in options:
            raise ConfigError(f"baseline_options: {name} has options in baselines too; give them in one place")
        if name not in kwargs["registered"]:
            _check_known((name,), BASELINES, "baseline_options")
        _check_options(kwargs["registered"].get(name, name), opts)
        options[name] = opts
    if options:
        kwargs["baseline_options"] = options
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
        if Path(scheduler).is_file():
            _check_scheduler_file(Path(scheduler))
        if kwargs.get("cluster", ClusterConfig()).kind != "local":
            raise ConfigError("give either scheduler (an existing cluster) or a batch cluster kind, not both")
        kwargs["scheduler"] = given["scheduler"]
    if "eval_timeout_s" in given:
        kwargs["eval_timeout_s"] = _positive_number(given["eval_timeout_s"], "eval_timeout_s", " of seconds")
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


def _check_scheduler_file(path: Path) -> None:
    """A scheduler file is the JSON that ``dask scheduler --scheduler-file`` writes, with the address."""
    try:
        record = json.loads(path.read_bytes())
    except (ValueError, OSError) as error:  # not JSON, not UTF-8 or unreadable
        raise ConfigError(f"scheduler: {path} is not a Dask scheduler file (not JSON: {error}); give the file "
                          "that `dask scheduler --scheduler-file FILE` writes, or an address tcp://HOST:PORT") from None
    if not isinstance(record, dict) or not isinstance(record.get("address"), str):
        raise ConfigError(f"scheduler: {path} is JSON but no Dask scheduler file (no \"address\"); give the file "
                          "that `dask scheduler --scheduler-file FILE` writes, or an address tcp://HOST:PORT")
