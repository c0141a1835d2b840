"""Tables of final indicator values and statistical comparisons of baselines, as pure functions over tables.

Per task: the Mann-Whitney U test (two-sided) of every baseline's final indicator values across seeds
against those of the best baseline (best median), with Holm's correction over the comparisons of the task.
Across tasks: average ranks, the Friedman test, the Nemenyi post-hoc test (scikit-posthocs) with its
critical difference, and the cliques of baselines no pair of which differs significantly (Demšar, 2006,
"Statistical comparisons of classifiers over multiple data sets", JMLR 7).
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import scikit_posthocs
from scipy import stats

from analysis.aggregate import indicator_of, percentiles


def final_values(curves: pd.DataFrame) -> pd.DataFrame:
    """The last row of every run: task, baseline, seed, evaluations, indicator, front, value (and regret
    for the hypervolume)."""
    last = curves.groupby(["task", "baseline", "seed"], sort=True).tail(1)
    columns = ["task", "baseline", "seed", "evaluations", "indicator", "front", "value"]
    columns += ["regret"] if "regret" in curves else []
    return last.rename(columns={"evaluation": "evaluations"})[columns].reset_index(drop=True)


def holm(p_values: np.ndarray) -> np.ndarray:
    """Holm's step-down adjusted p-values (NaN entries are left out and stay NaN)."""
    p_values = np.asarray(p_values, dtype=float)
    adjusted = np.full(len(p_values), np.nan)
    present = np.flatnonzero(np.isfinite(p_values))
    order = present[np.argsort(p_values[present])]
    running = 0.0
    for position, index in enumerate(order):
        running = max(running, min(1.0, (len(order) - position) * p_values[index]))
        adjusted[index] = running
    return adjusted


def comparison_table(final: pd.DataFrame, alpha: float = 0.05) -> pd.DataFrame:
    """Per task and baseline: the reference front ("true" or "best-known"), seeds, median, quartiles, mean,
    std of the final indicator value, the rank of the median within the task (1 = best), and the test
    against the task's best baseline.

    Columns ``p_value`` (Mann-Whitney U, two-sided), ``p_holm`` (Holm-adjusted within the task) and
    ``worse_than_best`` (p_holm < alpha); all NaN/False for the best baseline itself. For the hypervolume,
    ``median_regret`` is the median final regret to the reference front.
    """
    if not 0 < alpha < 1:
        raise ValueError(f"alpha must lie in (0, 1), got {alpha}")
    indicator = indicator_of(final)
    sign = 1.0 if indicator.higher_is_better else -1.0  # sign * value: higher is better
    rows = []
    for task, of_task in final.groupby("task", sort=True):
        samples = {b: g["value"].to_numpy(dtype=float) for b, g in of_task.groupby("baseline", sort=True)}
        medians = {b: float(np.median(v)) for b, v in samples.items()}
        means = {b: float(np.mean(v)) for b, v in samples.items()}
        best = max(samples, key=lambda b: (sign * medians[b], sign * means[b]))
        ranks = stats.rankdata([-sign * medians[b] for b in samples])
        p_values = np.array([
            np.nan if b == best else float(stats.mannwhitneyu(v, samples[best], alternative="two-sided").pvalue)
            for b, v in samples.items()
        ])
        regrets = of_task.groupby("baseline", sort=True)["regret"].median() if "regret" in of_task else None
        for (baseline, values), rank, p_value, p_adjusted in zip(samples.items(), ranks, p_values, holm(p_values)):
            q25, q75 = percentiles(values, [25, 75])
            rows.append({
                "task": task, "baseline": baseline, "front": of_task["front"].iloc[0], "seeds": len(values),
                "median": medians[baseline], "q25": float(q25), "q75": float(q75), "mean": means[baseline],
                # a run that never finished an evaluation (+inf) leaves the spread undefined
                "std": float(np.std(values, ddof=1)) if len(values) > 1 and np.isfinite(values).all() else np.nan,
                "rank": float(rank), "best": baseline == best, "p_value": p_value, "p_holm": p_adjusted,
                "worse_than_best": bool(p_adjusted < alpha),
                **({} if regrets is None else {"median_regret": float(regrets[baseline])}),
            })
    return pd.DataFrame(rows).assign(indicator=indicator.name)


def critical_difference(k: int, n_tasks: int, alpha: float = 0.05) -> float:
    """Nemenyi's critical difference of average ranks for ``k`` baselines on ``n_tasks`` tasks (Demšar
    2006, eq. 5): q_alpha * sqrt(k (k + 1) / (6 N)), q_alpha the studentized range quantile / sqrt(2)."""
    if k < 2 or n_tasks < 1:
        raise ValueError(f"a critical difference needs >= 2 baselines and >= 1 task, got {k} and {n_tasks}")
    q_alpha = stats.studentized_range.ppf(1 - alpha, k, np.inf) / math.sqrt(2)
    return float(q_alpha * math.sqrt(k * (k + 1) / (6 * n_tasks)))


def cliques(average_rank: pd.Series, p_values: pd.DataFrame, alpha: float = 0.05) -> list[list[str]]:
    """The maximal groups of baselines, in order of average rank, no two of which differ significantly
    (p >= alpha): the bars of a critical-difference diagram.

    With Nemenyi's test a pair's p-value falls as its rank difference grows, so every such group is a run
    of neighbours in rank order; a lone baseline is a group of one.
    """
    order = list(average_rank.sort_values(kind="stable").index)
    groups: list[list[str]] = []
    for first, baseline in enumerate(order):
        last = first
        while last + 1 < len(order) and p_values.loc[baseline, order[last + 1]] >= alpha:
            last += 1
        if not groups or order.index(groups[-1][-1]) < last:  # not inside the previous group
            groups.append(order[first:last + 1])
    return groups


def average_ranks(table: pd.DataFrame, alpha: float = 0.05) -> tuple[pd.DataFrame, dict[str, object]]:
    """Average rank (of the median final indicator value) per baseline over the tasks where every baseline ran.

    Returns the ranks (baseline, average_rank, tasks, clique: the letters of the cliques it belongs to)
    and a summary: tasks, baselines, Friedman p-value (NaN with fewer than 3 baselines or 2 tasks), the
    Nemenyi critical difference, the pairwise Nemenyi p-values (scikit-posthocs) and the cliques.
    """
    indicator = indicator_of(table)
    wide = table.pivot(index="task", columns="baseline", values="median").dropna()
    k, n = wide.shape[1], wide.shape[0]
    if k < 2 or n < 1:
        raise ValueError(f"average ranks need >= 2 baselines on a common task, got {k} baselines on {n} tasks")
    # lower is better in ``losses``: rank 1 is the best baseline of a task
    losses = -wide if indicator.higher_is_better else wide
    average = pd.Series(stats.rankdata(losses.to_numpy(), axis=1).mean(axis=0), index=wide.columns).sort_values(kind="stable")
    friedman = (float(stats.friedmanchisquare(*losses.to_numpy().T).pvalue) if k >= 3 and n >= 2 else np.nan)
    p_values = scikit_posthocs.posthoc_nemenyi_friedman(losses.to_numpy())
    p_values.index = p_values.columns = wide.columns
    groups = cliques(average, p_values, alpha)
    letters = {b: "".join(chr(ord("a") + g) for g, group in enumerate(groups) if b in group) for b in average.index}
    summary = {"tasks": n, "baselines": k, "friedman_p": friedman, "critical_difference": critical_difference(k, n, alpha),
               "alpha": alpha, "p_values": p_values, "cliques": groups}
    frame = pd.DataFrame({"baseline": average.index, "average_rank": average.to_numpy(), "tasks": n,
                          "clique": [letters[b] for b in average.index], "indicator": indicator.name})
    return frame, summary


def to_markdown(frame: pd.DataFrame, digits: int = 4) -> str:
    """A GitHub Markdown table (floats to ``digits`` significant digits; NaN as an empty cell)."""
    def cell(value: object) -> str:
        if isinstance(value, (bool, np.bool_)):
            return "yes" if value else ""
        if isinstance(value, (float, np.floating)):
            return "" if not np.isfinite(value) else f"{value:.{digits}g}"
        return str(value)

    lines = ["| " + " | ".join(map(str, frame.columns)) + " |", "|" + "---|" * len(frame.columns)]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in frame.itertuples(index=False)]
    return "\n".join(lines) + "\n"


def write_table(frame: pd.DataFrame, stem: Path, title: str = "") -> list[Path]:
    """``<stem>.csv`` and ``<stem>.md``; returns both paths."""
    stem = Path(stem)
    stem.parent.mkdir(parents=True, exist_ok=True)
    csv, markdown = stem.with_suffix(".csv"), stem.with_suffix(".md")
    frame.to_csv(csv, index=False)
    markdown.write_text((f"{title}\n\n" if title else "") + to_markdown(frame))
    return [csv, markdown]
