"""Suite configuration values: each mistake is one ConfigError naming the key."""

from __future__ import annotations

import pytest

from suite.grid import ConfigError, build_config


@pytest.mark.parametrize(("values", "message"), [
    ({"results": 5}, "results: expected a folder path"),
    ({"seeds": [0, 0]}, "seeds: a seed is listed twice"),
    ({"tasks": ["fcnet-naval", "fcnet-naval"]}, "tasks: a name is listed twice"),
    ({"plugins": {"a": 1}}, "plugins: expected a list of module names"),
    ({"plugins": "no_such_module_xyz"}, "cannot import 'no_such_module_xyz'"),
    ({"budget_seconds": -3}, "budget_seconds: expected a positive number"),
    ({"baseline_options": {"mo_bohb": {"gamma": 1.0}}}, "baseline_options: baseline mo_bohb: option gamma must be"),
    ({"baseline_options": {"nsga2": {"population_size": "20"}}}, "option population_size must be"),
    ({"baseline_options": {"random_search": {"population": 4}}}, "random_search has no option.s. population"),
    ({"baseline_options": {"random_search": [1]}}, "baseline_options: expected a mapping of baseline name -> mapping"),
])
def test_bad_values_are_one_clear_error(values: dict, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        build_config({"baselines": ["random_search"], **values})


def test_the_grid_is_every_task_baseline_and_seed() -> None:
    config = build_config({"baselines": "random_search", "tasks": ["fcnet-naval", "nb201-cifar10"], "seeds": [2, 5],
                           "budget": 7, "plugins": "examples.my_baseline"})
    runs = config.runs()
    assert [(r.task, r.seed) for r in runs] == [("fcnet-naval", 2), ("fcnet-naval", 5), ("nb201-cifar10", 2),
                                                ("nb201-cifar10", 5)]
    assert {r.budget.evaluations for r in runs} == {7} and config.plugins == ("examples.my_baseline",)


def test_the_default_baselines_are_the_cards_five_and_all_names_every_registered_one() -> None:
    from baselines import BASELINES, BUILT_IN

    default = build_config({}).baselines
    assert default[:5] == ("mo_bohb", "motpe", "nsga2", "parego", "random_search")
    assert not set(default[5:]) & set(BUILT_IN)  # beyond the five: plug-ins other tests registered
    assert build_config({"baselines": "all"}).baselines == tuple(BASELINES.names())
    assert len(BASELINES.names()) > len(default)  # the other built-ins are left out only by default


def test_a_plug_in_baseline_joins_the_default_set(tmp_path) -> None:
    plugin = tmp_path / "grid_default_plugin.py"
    plugin.write_text("from baselines import register\nfrom baselines.random_search import RandomSearch\n\n"
                      "@register('grid_default_probe')\nclass Probe(RandomSearch):\n    pass\n")
    config = build_config({"plugins": [str(plugin)]})
    assert config.baselines[-1] == "grid_default_probe"
