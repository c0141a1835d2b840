"""Command line: ``python -m analysis results/<experiment> --out figures/ [--indicator hv|igdplus|epsilon]``
writes every figure and table.

Bad input (a missing folder, a bad option, runs that disagree with their task, runs of several
experiments or definitions) ends with one line on stderr and exit status 2, never a traceback. Run folders
left out (unreadable, damaged) and runs not ranked (failed, incomplete) are named on stderr, one line each.
"""

from __future__ import annotations

import argparse
import sys
from typing import NoReturn

from analysis.aggregate import INDICATORS, STATISTICS, X_AXES


def _pair(text: str) -> tuple[int, int]:
    try:
        first, second = (int(part) for part in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected two objective indices such as 0,1, got {text!r}") from None
    return first, second


def _condition(text: str) -> tuple[str, str]:
    key, equals, value = text.partition("=")
    if not equals or not key.strip():
        raise argparse.ArgumentTypeError(f"expected KEY=VALUE such as budget.evaluations=50, got {text!r}")
    return key.strip(), value.strip()


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        # one line, not argparse's usage block
        self.exit(2, f"error: {message} (see --help)\n")


def build_parser(prog: str = "python -m analysis") -> argparse.ArgumentParser:
    """The options of ``main``; ``prog`` names the command in usage and errors."""
    cli = _Parser(
        prog=prog,
        description="Quality indicators over time, fronts, attainment surfaces, ranks and statistics of a results folder.",
    )
    cli.add_argument("experiment", help="a results folder, e.g. results/<experiment>")
    cli.add_argument("--out", default="figures", help="where figures and tables are written (default: figures)")
    cli.add_argument("--x", choices=X_AXES, default="evaluations",
                     help="x axis of the curves: evaluations, or time on the runs' simulated or wall clock")
    cli.add_argument("--log-x", action="store_true", help="log x axis for the curves")
    cli.add_argument("--statistic", choices=STATISTICS, default="median",
                     help="median with interquartile band (default) or mean with standard-error band")
    cli.add_argument("--objectives", type=_pair, default=(0, 1),
                     help="pair of objective indices for fronts and attainment surfaces (default: 0,1)")
    cli.add_argument("--tabular-data", default=None,
                     help="folder of shipped true fronts (default: the repository's tabular_data/)")
    cli.add_argument("--indicator", choices=tuple(INDICATORS), default="hv",
                     help="hv: hypervolume and its regret (default); igdplus: IGD+; epsilon: additive epsilon; the "
                          "last two and the regret against each task's true front, else its best-known front")
    cli.add_argument("--alpha", type=float, default=0.05, help="significance level (default: 0.05)")
    cli.add_argument("--where", type=_condition, action="append", default=[], metavar="KEY=VALUE",
                     help="analyse only the runs whose metadata.json has this value at this dotted key, e.g. "
                          "experiment=small, budget.evaluations=50, baseline.options.NAME=VALUE (repeatable)")
    cli.add_argument("--include-incomplete", action="store_true",
                     help="rank failed and incomplete runs with the complete ones (marked in tables and figures); "
                          "by default they are drawn dotted, named under the figures and in runs.md, not ranked")
    return cli


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    from analysis.report import analyse  # after parsing: --help stays fast

    try:
        written = analyse(args.experiment, args.out, x=args.x, log_x=args.log_x, statistic=args.statistic,
                          objectives=args.objectives, tabular_data=args.tabular_data, alpha=args.alpha,
                          indicator=args.indicator, where=args.where, include_incomplete=args.include_incomplete)
    except (ValueError, OSError) as error:  # bad input or an unwritable --out: one line, no traceback
        print(f"error: {error}", file=sys.stderr)
        return 2
    for path in written:
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
