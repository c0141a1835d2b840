"""Where the tests of tasks find the data at hand (``../shared/data`` from the repository root)."""

from __future__ import annotations

from pathlib import Path
from typing import Callable

import pytest

ROOT = Path(__file__).resolve().parents[2]
SHARED_DATA = ROOT.parent / "shared" / "data"
FIXTURES = ROOT / "tests" / "fixtures"


@pytest.fixture
def shared_data() -> Callable[[str], Path]:
    """``shared_data(folder)``: a folder of ../shared/data, or a skip saying it is absent."""

    def folder_or_skip(folder: str) -> Path:
        path = SHARED_DATA / folder
        if not path.is_dir():
            pytest.skip(f"{path} is absent (test data outside the repository)")
        return path

    return folder_or_skip


@pytest.fixture
def sysfs_fixtures() -> Path:
    return FIXTURES / "sysfs"
