"""Where the tests of tasks find the data at hand (``../shared/data`` from the repository root)."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SHARED_DATA = ROOT.parent / "shared" / "data"
FIXTURES = ROOT / "tests" / "fixtures"


def shared(folder: str) -> Path:
    """A folder of ../shared/data, or a skip saying it is absent."""
    path = SHARED_DATA / folder
    if not path.is_dir():
        pytest.skip(f"{path} is absent (test data outside the repository)")
    return path


@pytest.fixture
def sysfs_fixtures() -> Path:
    return FIXTURES / "sysfs"
