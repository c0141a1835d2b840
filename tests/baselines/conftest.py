"""Load baseline plug-ins before collection, so the conformance suite tests them too.

Set ``BOB_PLUGINS`` to a comma-separated list of modules whose ``@register`` lines add
baselines (``BOB_PLUGINS=examples.my_baseline python -m pytest tests/baselines``).
Baselines registered through the ``bag_of_baselines.baselines`` entry-point group need nothing.
"""

from __future__ import annotations

import os

import pytest

from baselines import BASELINES

PLUGINS_VARIABLE = "BOB_PLUGINS"


def pytest_configure(config: pytest.Config) -> None:
    for module in filter(None, (m.strip() for m in os.environ.get(PLUGINS_VARIABLE, "").split(","))):
        try:
            BASELINES.load_module(module)
        except ImportError as error:
            raise pytest.UsageError(
                f"{PLUGINS_VARIABLE}: cannot import {module!r} ({error}); give importable module names, "
                "e.g. examples.my_baseline run from the repository root with python -m pytest"
            ) from None
