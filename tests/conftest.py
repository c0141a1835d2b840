"""Settings for the whole test session."""

from __future__ import annotations

import os
import sys
import tempfile
from importlib.metadata import version

# The golden files (shipped fronts, trial digests, rows of earlier loops) were written by numpy's AVX2 code
# paths; on a CPU with AVX-512 numpy dispatches other implementations of log10, exp and the like, whose last
# bit can differ (FCNet's log10 MSEs, then Optuna's trials). The session runs numpy on the AVX2 paths on every
# x86 machine, so that a golden check fails for a change of code, not of CPU (docs/results.md, "Same seed, same
# trials"). numpy 2.4 names the AVX-512 groups X86_V4, AVX512_ICL and AVX512_SPR, earlier versions AVX512F,
# AVX512_SKX, ...; a name numpy was not built to dispatch gets an ImportWarning, hence by version.
if tuple(int(part) for part in version("numpy").split(".")[:2]) >= (2, 4):
    NUMPY_AVX2_ONLY = "X86_V4 AVX512_ICL AVX512_SPR"
else:
    NUMPY_AVX2_ONLY = "AVX512F AVX512CD AVX512_KNL AVX512_KNM AVX512_SKX AVX512_CLX AVX512_CNL AVX512_ICL AVX512_SPR"
if "numpy" in sys.modules:  # its code paths are chosen at import
    raise RuntimeError("tests/conftest.py: numpy was imported before the test session could choose its code paths; "
                       "run pytest without the plugin that imports it (-p no:NAME)")
os.environ.setdefault("NPY_DISABLE_CPU_FEATURES", NUMPY_AVX2_ONLY)

# Decoded tables are cached per user ($BOB_CACHE, keyed by the data's hash and the recipe's version). The tests
# decode from the raw data into a cache of their own, so a stale user cache can never make a check of the
# recipes or of the shipped reference files pass; subprocesses inherit it.
os.environ["BOB_CACHE"] = tempfile.mkdtemp(prefix="bob-test-cache-")
