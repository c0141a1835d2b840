"""Data files that ship inside the installed package: table reference records, measured tables, provenance.

No logic lives here; ``FOLDER`` is where the files are, whether the project runs from a checkout, an
editable install or a wheel.
"""

from pathlib import Path

FOLDER = Path(__file__).resolve().parent
