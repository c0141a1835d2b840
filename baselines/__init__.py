"""Multi-objective optimisers behind one ask/tell contract, found by name in ``BASELINES``.

Importing this package registers the built-in baselines; outside packages register theirs through the
``bag_of_baselines.baselines`` entry-point group or a module passed with ``run_suite.py --plugin``.
"""

from baselines import mobohb, motpe, nsga2, parego, random_search  # noqa: F401  (registers)
from baselines.base import BASELINES, Baseline, Option, OptionError, Proposal, register

__all__ = ["BASELINES", "Baseline", "Option", "OptionError", "Proposal", "register"]
