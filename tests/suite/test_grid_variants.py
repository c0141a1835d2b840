"""Labelled variants in ``baselines``: one registered baseline under several labels, each with its own options."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from suite.grid import ConfigError, Variant, build_config, parse_variant, split_entry

ROOT = Path(__file__).resolve().parents[2]


def test_a_variant_is_a_label_a_registered_name_and_typed_options() -> None:
    assert parse_variant("motpe") == Variant("motpe", "motpe")
    assert parse_variant("nsga2_big=nsga2@population_size=40@crossover_prob=0.5") == Variant(
        "nsga2_big", "nsga2", {"population_size": 40, "crossover_prob": 0.5})
    assert parse_variant("mosh_bananas=mo_bananas@successive_halving=true").options == {"successive_halving": True}
    assert parse_variant({"label": "small", "baseline": "nsga2", "options": {"population_size": 8}}) == Variant(
        "small", "nsga2", {"population_size": 8})


def test_the_grid_runs_each_label_with_its_own_baseline_and_options() -> None:
    config = build_config({"baselines": ["random_search", "small=nsga2@population_size=8",
                                         {"label": "large", "baseline": "nsga2", "options": {"population_size": 20}},
                                         "plain=nsga2"],
                           "tasks": ["fcnet-naval"], "seeds": 1, "budget": 5,
                           "baseline_options": {"plain": {"population_size": 12}, "motpe": {"n_startup_trials": 5}}})
    assert config.baselines == ("random_search", "small", "large", "plain")
    runs = {spec.baseline: (spec.registered, spec.options) for spec in config.runs()}
    assert runs == {"random_search": ("random_search", {}), "small": ("nsga2", {"population_size": 8}),
                    "large": ("nsga2", {"population_size": 20}), "plain": ("nsga2", {"population_size": 12})}


def test_entries_are_cut_outside_brackets_and_quotes() -> None:
    assert split_entry("a,L=n@o=[1,2]@p={x: 1, y: [2, 3]},q=\"a,b\",it's", ",") == [
        "a", "L=n@o=[1,2]@p={x: 1, y: [2, 3]}", 'q="a,b"', "it's"]
    assert parse_variant("a=n@o=[1,2]@p={x: 1, y: 2}@q='a,b@c'@r=\"x\\\"@\"") == Variant(
        "a", "n", {"o": [1, 2], "p": {"x": 1, "y": 2}, "q": "a,b@c", "r": 'x"@'})
    # the list reaches the option's check whole (no built-in option takes a list)
    with pytest.raises(ConfigError, match=r"option population_size must be an integer >= 2, got \[1, 2\]$"):
        build_config({"baselines": "random_search,big=nsga2@population_size=[1,2]", "tasks": ["fcnet-naval"]})
    for text, message in [("a=n@x=1]", "a ']' that closes no bracket"), ("a=n@x=[1,2}", "a '}' that closes no"),
                          ("a=n@x=\"1,2", "an unclosed '\"'"), ("a=n@x={y: [1}", "a '}' that closes no")]:
        with pytest.raises(ConfigError, match=re.escape(f"baselines: {text!r}: {message}")):
            split_entry(text, ",")


@pytest.mark.parametrize(("baselines", "message"), [
    (["a=no_such_baseline"], "unknown baseline 'no_such_baseline'"),
    (["a=nsga2", "a=motpe"], "baselines: a name is listed twice .a.;"),
    (["nsga2", "nsga2"], "baselines: a name is listed twice .nsga2."),
    (["x/y=nsga2"], "the label 'x/y' must be a folder name"),
    (["..=nsga2"], "the label '..' must be a folder name"),
    (["all=nsga2"], "the label 'all' must be a folder name"),
    (["motpe=nsga2"], "the label 'motpe' is the name of another registered baseline"),
    (["a=nsga2@population_size"], "expected LABEL=NAME@OPTION=VALUE"),
    (["a=nsga2@population_size=4@population_size=5"], "option population_size is given twice"),
    (["a=nsga2@population_size=[1"], "'a=nsga2@population_size=\\[1': an unclosed '\\['"),
    (["a=nsga2@population_size=a: b: c"], "no YAML value"),
    (["a=nsga2@population=4"], "baselines: a: .*nsga2 has no option.s. population"),
    ([{"label": "a", "baseline": "nsga2", "opts": {}}], "has the keys label, baseline and options"),
    ([3], "expected a name, LABEL=NAME@OPTION=VALUE or a mapping"),
])
def test_bad_variants_are_one_clear_error(baselines: list, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        build_config({"baselines": baselines, "tasks": ["fcnet-naval"]})


def test_options_of_a_variant_are_given_in_one_place() -> None:
    with pytest.raises(ConfigError, match="baseline_options: a has options in baselines too"):
        build_config({"baselines": ["a=nsga2@population_size=8"], "baseline_options": {"a": {"population_size": 9}}})


def _suite(config: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(ROOT / "run_suite.py"), "--config", str(config), "--quiet",
                           "--no-plot", *args], cwd=config.parent, capture_output=True, text=True, timeout=300)


@pytest.mark.slow
def test_two_variants_run_side_by_side_and_a_label_with_other_options_is_refused(tmp_path: Path) -> None:
    from analysis.io import load_experiment
    from suite.lifecycle import execute
    from suite.results_format import ResultsError

    config = tmp_path / "suite.yaml"
    head = (f"tasks: [fcnet-naval]\nseeds: 1\nbudget: 12\nresults: {tmp_path / 'results'}\nexperiment: v\n"
            "dask_workers: 1\n")
    config.write_text(head + "baselines:\n  - small=nsga2@population_size=4\n"
                             "  - {label: large, baseline: nsga2, options: {population_size: 10}}\n")
    done = _suite(config)
    assert done.returncode == 0, done.stderr
    for label, size in (("small", 4), ("large", 10)):
        metadata = json.loads((tmp_path / "results" / "v" / "fcnet-naval" / label / "0" / "metadata.json").read_text())
        # the options in force are read from the built baseline: the label's options reached NSGA-II
        assert metadata["baseline"]["name"] == label and metadata["baseline"]["registered"] == "nsga2"
        assert metadata["baseline"]["options"]["population_size"] == size
        assert metadata["baseline"]["requested"] == {"population_size": size}
    runs = load_experiment(tmp_path / "results" / "v")
    assert sorted(run.baseline for run in runs) == ["large", "small"]  # the analysis shows the labels
    assert all(len(run.rows) == 12 for run in runs)

    # a resume under the same label with other options, or another baseline, is refused and writes nothing
    for entry, message in (("small=nsga2@population_size=6",
                            "holds a run with options {'population_size': 4}, this suite asks {'population_size': 6}"),
                           ("small=motpe", "holds a run with registered 'nsga2', this suite asks 'motpe'")):
        (spec,) = build_config({"baselines": [entry], "tasks": ["fcnet-naval"], "seeds": 1, "budget": 12,
                                "experiment": "v"}).runs()
        with pytest.raises(ResultsError, match=re.escape(message)):
            execute(spec, tmp_path / "results")
    metadata = json.loads((tmp_path / "results" / "v" / "fcnet-naval" / "small" / "0" / "metadata.json").read_text())
    assert metadata["baseline"]["requested"] == {"population_size": 4} and "resumed" not in metadata


def test_the_command_line_refuses_a_bad_label_in_one_line() -> None:
    done = subprocess.run([sys.executable, str(ROOT / "run_suite.py"), "--baselines", "a/b=nsga2",
                           "--tasks", "fcnet-naval"], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 2 and len(done.stderr.strip().splitlines()) == 1
    assert "the label 'a/b' must be a folder name" in done.stderr


def test_the_command_line_refuses_an_unbalanced_bracket_in_one_line() -> None:
    done = subprocess.run([sys.executable, str(ROOT / "run_suite.py"), "--baselines",
                           "random_search,a=nsga2@population_size=[1,2", "--tasks", "fcnet-naval"],
                          cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 2 and len(done.stderr.strip().splitlines()) == 1, done.stderr
    assert "baselines: 'random_search,a=nsga2@population_size=[1,2': an unclosed '['" in done.stderr
