"""Tables: the query side (``Table``, ``TableTask``) apart from the recipes that build tables.

- ``tasks.tables.table``: one ``Table`` structure and one ``TableTask`` for every table;
- ``tasks.tables.reference``: reference records (bounds, reference point, true front), their shipped
  files under ``tabular_data/`` and the check/write CLI;
- ``tasks.tables.recipes``: readers and importers that build tables.
"""

from __future__ import annotations

from tasks.tables.table import Table, TableTask, space_from_levels

__all__ = ["Table", "TableTask", "space_from_levels"]
