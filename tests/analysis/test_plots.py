from __future__ import annotations

from pathlib import Path

import matplotlib.image
import pytest

from analysis import plot_experiment


def test_plot_experiment_writes_png_and_pdf(experiment: Path, tmp_path: Path) -> None:
    png = plot_experiment(experiment, tmp_path / "figures")
    assert png == tmp_path / "figures" / "hypervolume_over_time.png"
    assert png.with_suffix(".pdf").stat().st_size > 1000
    height, width, _ = matplotlib.image.imread(png).shape
    assert width > 800 and height > 300  # two task panels side by side


def test_plot_experiment_refuses_a_missing_folder(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="does not exist"):
        plot_experiment(tmp_path / "nope", tmp_path)


def test_plot_experiment_refuses_runs_without_evaluations(experiment: Path, tmp_path: Path) -> None:
    folder = tmp_path / "empty" / "fcnet-naval" / "random_search" / "0"
    folder.mkdir(parents=True)
    (folder / "metadata.json").write_text((experiment / "fcnet-naval" / "random_search" / "0" / "metadata.json").read_text())
    with pytest.raises(ValueError, match="no run has a finished evaluation"):
        plot_experiment(tmp_path / "empty", tmp_path / "figures")
