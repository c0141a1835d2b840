"""Registries: one clear error for an unknown name, and plug-ins from outside this repository."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tasks.registry import Registry, UnknownNameError


def test_unknown_name_lists_the_registered_ones() -> None:
    registry: Registry[int] = Registry("thing", entry_point_group="bag_of_baselines.test-none")
    registry.add("one", 1)
    with pytest.raises(UnknownNameError, match="unknown thing 'two'; registered: one"):
        registry.get("two")
    with pytest.raises(ValueError, match="registered twice"):
        registry.add("one", 2)


def test_an_outside_package_registers_a_baseline_through_its_entry_point(tmp_path: Path) -> None:
    """A package installed beside this one (a dist-info with entry_points.txt) is found by name."""
    package = tmp_path / "outside_pkg"
    package.mkdir()
    (package / "__init__.py").write_text(textwrap.dedent("""
        from baselines.random_search import RandomSearch
        from baselines import register

        @register("outside_random")
        class OutsideRandom(RandomSearch):
            '''Random search shipped by another package.'''
    """))
    dist = tmp_path / "outside_pkg-1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: outside-pkg\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text("[bag_of_baselines.baselines]\noutside_random = outside_pkg:OutsideRandom\n")
    code = "from baselines import BASELINES; print(BASELINES.get('outside_random').__name__)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env={"PYTHONPATH": str(tmp_path), "PATH": ""}, cwd=Path(__file__).resolve().parents[2],
                          timeout=300)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "OutsideRandom"


def test_a_deferred_entry_is_imported_at_its_first_get_and_filled_in_by_its_own_register() -> None:
    registry: Registry[object] = Registry("thing", entry_point_group="bag_of_baselines.test-none")
    registry.defer("dumps", "json:dumps")
    registry.add("one", 1)
    assert registry.names() == ["dumps", "one"] and "dumps" in registry
    import json

    assert registry.get("dumps") is json.dumps
    registry.register("dumps")(json.dumps)  # its module registering it again: the same object, no error
    with pytest.raises(ValueError, match="registered twice"):
        registry.register("dumps")(json.loads)


def test_one_baseline_imports_only_its_own_library() -> None:
    """Listing names, checking options and building random search import neither SMAC, Optuna nor ConfigSpace;
    making an NSGA-II imports Optuna, not SMAC."""
    code = textwrap.dedent("""
        import sys
        from baselines import BASELINES, BUILT_IN
        assert BASELINES.names()[:len(BUILT_IN)] == list(BUILT_IN)
        BASELINES.get("random_search").check_options({})
        from tasks import make_task
        task = make_task("fcnet-naval")
        print(sorted(m for m in ("smac", "optuna", "ConfigSpace", "torch") if m in sys.modules))
        nsga2 = BASELINES.get("nsga2")  # its module: Optuna only once a run makes the baseline
        print(nsga2.__name__, "optuna" in sys.modules)
        nsga2(task.space, task.objectives, task.fidelity, 0)
        print("optuna" in sys.modules, "smac" in sys.modules)
    """)
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          cwd=Path(__file__).resolve().parents[2], timeout=300)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == ["[]", "NSGA2 False", "True False"]
