"""The suite on a cluster: an existing scheduler (real dask processes), batch job scripts through
dask-jobqueue, live evaluations as Dask tasks holding worker resources, loopback by default."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Iterator

import pandas as pd
import pytest
from dask_processes import ROOT, DaskProcesses, dask_processes, environment

import run_suite
from suite.cluster import jobqueue_cluster
from suite.dispatch import local_cluster
from suite.grid import ConfigError, build_config
from suite.lifecycle import execute
from suite.results_format import read_run
from suite.spec import Budget, RunSpec


@pytest.fixture(scope="module")
def dask(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DaskProcesses]:
    with dask_processes(tmp_path_factory.mktemp("dask"), {"gpu": ["--resources", "GPU=1"], "cpu": []}) as found:
        yield found


def _cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(ROOT / "run_suite.py"), "--no-plot", "--quiet", *args],
                          cwd=cwd, env=environment(), capture_output=True, text=True, timeout=240)


@pytest.mark.parametrize(("kind", "directives"), [
    ("slurm", ["#SBATCH -p gpu", "#SBATCH -t 01:00:00", "#SBATCH --gres=gpu:1", "#SBATCH --constraint=a100"]),
    ("pbs", ["#PBS -q gpu", "#PBS -l walltime=01:00:00", "#PBS --constraint=a100"]),
    ("sge", ["#$ -q gpu", "#$ -l h_rt=01:00:00"]),
    ("lsf", ["#BSUB -q gpu", "#BSUB -W 01:00"]),
])
def test_a_cluster_section_becomes_the_batch_job_script(kind: str, directives: list[str]) -> None:
    config = build_config({"baselines": ["random_search"], "cluster": {
        "kind": kind, "cores": 4, "memory": "8GB", "walltime": "01:00:00" if kind != "lsf" else "01:00",
        "queue": "gpu", "jobs": 3, "gpus": 1,
        "scheduler_options": {"host": "127.0.0.1", "dashboard_address": "127.0.0.1:0"},
        **({"job_extra_directives": ["--constraint=a100"]} if kind in ("slurm", "pbs") else {}),
    }})
    assert config.cluster.kind == kind and config.cluster.jobs == 3
    with jobqueue_cluster(config.cluster) as cluster:
        script = cluster.job_script()
    for directive in directives:
        assert directive in script.splitlines(), (directive, script)
    assert "--resources GPU=1" in script and "--nworkers" not in script  # one worker process per GPU


@pytest.mark.parametrize(("values", "message"), [
    ({"cluster": "kubernetes"}, "unknown kind 'kubernetes'"),
    ({"cluster": {"kind": "slurm", "cores": 4, "walltme": "1:00:00"}}, "slurm has no option(s) walltme"),
    ({"cluster": {"kind": "local", "cores": 4}}, "kind local takes no batch options"),
    ({"cluster": {"kind": "pbs", "gpus": 2, "processes": 1}}, "processes must be 2"),
    ({"cluster": "slurm", "scheduler": "tcp://127.0.0.1:8786"}, "not both"),
    ({"scheduler": "nowhere.json"}, "scheduler: expected an address (tcp://HOST:PORT) or an existing"),
    ({"resources": {"GPU": "one"}}, "resources: expected a mapping"),
    ({"resources": {"GPU": 1}}, "resources: the local cluster's workers offer none"),
    ({"eval_timeout_s": -1}, "eval_timeout_s: expected a positive number"),
    ({"tls": {"ca_file": "ca.pem"}}, "tls: expected a mapping with ca_file, cert and key"),
])
def test_bad_cluster_settings_are_one_clear_error(values: dict, message: str) -> None:
    with pytest.raises(ConfigError, match=message.replace("(", r"\(").replace(")", r"\)")):
        build_config({"baselines": ["random_search"], **values})


def test_missing_batch_options_are_one_line(capsys: pytest.CaptureFixture, tmp_path: Path) -> None:
    assert run_suite.main(["--baselines", "random_search", "--cluster", "slurm", "--no-plot",
                           "--results", str(tmp_path)]) == 2
    assert "cores" in capsys.readouterr().err.splitlines()[-1]


def test_the_default_local_cluster_listens_on_loopback_only() -> None:
    with local_cluster(1) as cluster:
        addresses = [cluster.scheduler_address, *(w.address for w in cluster.workers.values())]
        assert all(a.startswith("tcp://127.0.0.1:") for a in addresses), addresses
        assert cluster.dashboard_link.startswith("http://127.0.0.1:")


@pytest.mark.slow
def test_an_existing_scheduler_runs_the_suite_and_a_rerun_skips_resumes_and_refuses(
    dask: DaskProcesses, tmp_path: Path,
) -> None:
    root = tmp_path / "results"
    args = ("--baselines", "random_search", "--tasks", "fcnet-naval", "--budget", "40", "--workers", "2",
            "--experiment", "e", "--results", str(root), "--scheduler", dask.address)
    done = _cli(*args, "--seeds", "2", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert f"Dask scheduler: {dask.address}" in done.stdout
    specs = [RunSpec("random_search", "fcnet-naval", s, Budget(evaluations=40), n_workers=2, experiment="e")
             for s in range(3)]
    reference = [read_run(execute(spec, tmp_path / "reference"))[1] for spec in specs]
    folders = [root / "e" / "fcnet-naval" / "random_search" / str(s) for s in range(3)]
    # seed 1 cut back to a partial run; seed 2 a folder written by another format version
    metadata, rows = read_run(folders[1])
    (folders[1] / "evaluations.parquet").unlink()
    (folders[1] / "metadata.json").write_text(json.dumps({**metadata, "status": "running"}))
    (folders[1] / "evaluations.jsonl").write_text(
        "".join(json.dumps({k: (None if pd.isna(v) else v) for k, v in r.items()}) + "\n"
                for r in rows.head(13).to_dict("records")))
    folders[2].mkdir(parents=True)
    (folders[2] / "metadata.json").write_text(json.dumps({"format_version": 0, "status": "running"}))
    again = _cli(*args, "--seeds", "3", cwd=tmp_path)
    assert again.returncode == 1
    assert "1 runs were already complete (skipped), 1 partial runs resumed" in again.stdout
    assert "seed 2: skipped:" in again.stderr and "result format 0" in again.stderr
    assert (folders[2] / "metadata.json").read_text().startswith('{"format_version": 0')  # left as it was
    for folder, expected in zip(folders[:2], reference):
        pd.testing.assert_frame_equal(read_run(folder)[1], expected)
    log = (root / "e" / "suite.log").read_text()
    assert "resuming" in log and "result format 0" in log
    fresh = _cli(*args, "--seeds", "3", "--fresh", cwd=tmp_path)
    assert fresh.returncode == 0, fresh.stderr
    for folder, expected in zip(folders, reference):
        metadata, rows = read_run(folder)
        assert "resumed" not in metadata
        pd.testing.assert_frame_equal(rows, expected)


@pytest.mark.slow
def test_live_evaluations_are_dask_tasks_on_the_worker_with_the_resource(dask: DaskProcesses, tmp_path: Path) -> None:
    config = tmp_path / "live.yaml"
    config.write_text(
        "baselines: [random_search]\ntasks: [toy-live]\nplugins: [cluster_toy_plugin]\nseeds: [0]\n"
        "budget: 10\nworkers: 2\nresources: {GPU: 1}\neval_timeout_s: 1.0\nexperiment: live\n"
        f"results: {tmp_path / 'results'}\nscheduler: {dask.address}\n"
    )
    done = _cli("--config", str(config), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    metadata, rows = read_run(tmp_path / "results" / "live" / "toy-live" / "random_search" / "0")
    assert metadata["clock"] == "wall" and metadata["resources"] == {"GPU": 1} and len(rows) == 10
    behaviour = rows["config"].map(lambda c: json.loads(c)["behaviour"])
    assert set(behaviour) == {"ok", "raise", "nan", "hang"}
    expected_status = {"ok": "ok", "raise": "failed", "nan": "failed", "hang": "timeout"}
    assert (rows["status"] == behaviour.map(expected_status)).all(), rows[["config", "status", "reason"]]
    # every evaluation that ran to its end did so on the one worker that offers GPU=1
    where = rows["info"].map(lambda i: json.loads(i).get("where"))
    from distributed import Client

    with Client(dask.address, timeout="10s") as client:
        gpu = next(a for a, w in client.scheduler_info()["workers"].items() if w["name"] == "gpu")
    assert set(where[rows["info"] != "{}"]) == {gpu}
