"""Every notebook under analysis/ runs from top to bottom on a real results folder."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

NOTEBOOKS = sorted((Path(__file__).resolve().parents[2] / "analysis").glob("*.ipynb"))
KERNEL = "bag-of-baselines-test"


@pytest.fixture()
def kernel(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """A kernel spec for this very interpreter, found first through JUPYTER_PATH, so that neither a
    user-level kernel nor a `python` on PATH decides which environment the notebooks run in."""
    spec = tmp_path / "jupyter" / "kernels" / KERNEL
    spec.mkdir(parents=True)
    (spec / "kernel.json").write_text(json.dumps({
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "bag-of-baselines (tests)", "language": "python",
    }))
    monkeypatch.setenv("JUPYTER_PATH", str(tmp_path / "jupyter"))
    return KERNEL


def test_there_are_notebooks() -> None:
    assert any(path.name == "paper_plots.ipynb" for path in NOTEBOOKS)


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=[path.name for path in NOTEBOOKS])
def test_notebook_executes(path: Path, experiment: Path, kernel: str, tmp_path: Path,
                           monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BOB_RESULTS", str(experiment))
    monkeypatch.setenv("BOB_FIGURES", str(tmp_path / "figures"))
    notebook = nbformat.read(path, as_version=4)
    NotebookClient(notebook, kernel_name=kernel, timeout=300, resources={"metadata": {"path": str(tmp_path)}}).execute()
    images = [o for cell in notebook.cells if cell.cell_type == "code" for o in cell.get("outputs", [])
              if "image/png" in o.get("data", {})]
    assert len(images) >= 8  # every figure type, both tasks
    assert (tmp_path / "figures" / "hv_evaluations.png").exists()


SHARED_FLOWERS = Path(__file__).resolve().parents[3] / "shared" / "data" / "flowers17-16px"
PUBLISHED = Path(__file__).resolve().parents[2] / "tabular_data" / "paper-reference-fronts-flowers17-16px.json"


def test_published_reference_fronts_ship_with_source_and_protocol_note() -> None:
    record = json.loads(PUBLISHED.read_text())
    assert "automl/multi-obj-baselines" in record["source"] and "3-fold cross-validation" in record["protocol_note"]
    assert record["task"] == "paper-flowers17" and record["reference_point"] == [1e8, 0.0]
    shared = SHARED_FLOWERS.parent / "reference-fronts" / "flowers17-16px.json"
    if shared.exists():  # the published numbers exactly as the data folder holds them
        assert record["fronts"] == json.loads(shared.read_text())["fronts"]
    for front in record["fronts"].values():  # (parameter count, -100 x accuracy), minimised both
        counts, accuracy = zip(*front)
        assert all(1 < count < 1e8 for count in counts) and all(-100 <= a <= 0 for a in accuracy)


@pytest.mark.slow
def test_paper_demo_config_runs_and_the_notebook_draws_the_paper_layout(kernel: str, tmp_path: Path,
                                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    """configs/paper-demo.yaml run by the suite's command on real Flowers-17 training, then the notebook on it."""
    if not SHARED_FLOWERS.exists():
        pytest.skip(f"{SHARED_FLOWERS} is absent (test data outside the repository)")
    root = Path(__file__).resolve().parents[2]
    monkeypatch.setenv("BOB_FLOWERS17_DIR", str(SHARED_FLOWERS))
    done = subprocess.run([sys.executable, str(root / "run_suite.py"), "--config", str(root / "configs" / "paper-demo.yaml"),
                           "--results", str(tmp_path / "results")], capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stderr[-2000:]
    monkeypatch.setenv("BOB_RESULTS", str(tmp_path / "results" / "paper-demo"))
    monkeypatch.setenv("BOB_FIGURES", str(tmp_path / "figures"))
    notebook = nbformat.read(root / "analysis" / "paper_plots.ipynb", as_version=4)
    NotebookClient(notebook, kernel_name=kernel, timeout=300, resources={"metadata": {"path": str(tmp_path)}}).execute()
    assert (tmp_path / "figures" / "paper_paper-flowers17-demo.png").exists()
    printed = "".join(o.get("text", "") for cell in notebook.cells if cell.cell_type == "code"
                      for o in cell.get("outputs", []))
    assert "3-fold cross-validation" in printed  # the published fronts' protocol note is shown with them
