"""Settings for the whole test session."""

from __future__ import annotations

import os
import tempfile

# Decoded tables are cached per user ($BOB_CACHE, keyed by the data's hash and the recipe's version). The tests
# decode from the raw data into a cache of their own, so a stale user cache can never make a check of the
# recipes or of the shipped reference files pass; subprocesses inherit it.
os.environ["BOB_CACHE"] = tempfile.mkdtemp(prefix="bob-test-cache-")
