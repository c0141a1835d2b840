"""The suite's figure: drawn by a child process started before the runs, with seaborn's theme held as data
(analysis/plots.py), which must give what seaborn's own ``set_theme`` gives."""

from __future__ import annotations

from pathlib import Path

import matplotlib
import matplotlib.image
import numpy as np
import pytest
import seaborn as sns
from matplotlib.colors import colorConverter

import analysis.plots as plots
from suite.cli import FigureProcess
from suite.lifecycle import execute
from suite.spec import Budget, RunSpec


@pytest.fixture(scope="module")
def experiment(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Two tasks (two panels), two seeds of random search each."""
    root = tmp_path_factory.mktemp("results")
    for task in ("fcnet-naval", "nb201-cifar10"):
        for seed in (0, 1):
            execute(RunSpec("random_search", task, seed, Budget(evaluations=20), experiment="small"), root)
    return root / "small"


def pixels(png: Path) -> np.ndarray:
    return matplotlib.image.imread(png)


def theme(apply: object, style: str) -> dict[str, object]:
    matplotlib.rcdefaults()
    apply(style)  # type: ignore[operator]
    return {**matplotlib.rcParams, **{f"code {c}": colorConverter.colors[c] for c in "bgrmyck"}}


@pytest.mark.parametrize("style", ["whitegrid", "white"])
def test_the_theme_held_as_data_is_what_seaborn_sets(style: str) -> None:
    ours = theme(plots._theme, style)
    theirs = theme(lambda s: sns.set_theme(style=s, context="paper"), style)
    matplotlib.rcdefaults()
    differ = {k: (ours[k], theirs[k]) for k in theirs if ours[k] != theirs[k] and k != "image.cmap"}
    assert not differ
    assert theirs["image.cmap"] == "rocket"  # the one key left out (see analysis/plots.py)
    for n in (1, 3, 12):  # 12: more baselines than colours, which cycle
        names = [f"b{i:02d}" for i in range(n)]
        assert plots._palette(names) == dict(zip(names, sns.color_palette("colorblind", n)))


def test_the_figure_has_the_pixels_it_has_with_seaborns_own_theme(experiment: Path, tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    matplotlib.rcdefaults()
    ours = plots.plot_experiment(experiment, tmp_path / "ours")
    matplotlib.rcdefaults()
    monkeypatch.setattr(plots, "_theme", lambda style: sns.set_theme(style=style, context="paper"))
    monkeypatch.setattr(plots, "_palette", lambda names: dict(zip(sorted(names), sns.color_palette(
        "colorblind", max(len(names), 1)))))
    theirs = plots.plot_experiment(experiment, tmp_path / "seaborn")
    matplotlib.rcdefaults()
    assert pixels(ours).shape == pixels(theirs).shape and pixels(ours).shape[1] > 800  # two panels
    assert np.array_equal(pixels(ours), pixels(theirs))


def test_what_the_figure_process_cannot_draw_is_a_value_error_with_its_reason(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="does not exist"):
        FigureProcess().draw(tmp_path / "nope")
    dead = FigureProcess()
    dead.close()  # as if it had died: no answer comes
    with pytest.raises(ValueError, match="the figure process failed"):
        dead.draw(tmp_path)


def test_a_figure_process_past_its_time_is_ended_and_named_as_such(tmp_path: Path) -> None:
    slow = FigureProcess()
    slow.TIMEOUT_S = 0.001  # it is still importing matplotlib when asked
    with pytest.raises(ValueError, match=r"took over 0.001 s and was ended; draw the figures with: python -m analysis"):
        slow.draw(tmp_path)
    assert slow._child is not None and slow._child.returncode is not None  # ended, not left behind
