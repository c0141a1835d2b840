"""Measure a multi-fidelity table of the live CNN task: a discrete sub-grid, several seeds, every epoch.

Each (configuration, seed) is one training run of ``epochs`` epochs whose validation and test metrics
are recorded after every epoch, so epochs are a real fidelity (one run, not one run per budget). A run is
measured by ``tasks.live.measure`` exactly as a live ``CNNTask`` evaluation is. The
runs go to Dask workers (a ``LocalCluster`` of single-threaded processes, or an existing scheduler);
finished runs are written to ``<out>/<name>.parquet`` as they arrive, and a re-run skips the (config,
seed) pairs already there, so an interrupted build resumes. ``<out>/<name>.provenance.json`` records
the device, meter, measurement protocol, versions, date, grid and wall time. The same tool measures a
table on a Jetson::

    python -m tasks.live.build_table --name cnn-digits-mf --dataset digits --seeds 0 1 2 --epochs 25 --n-workers 2

The grid is ``--grid name=v1,v2,...`` (repeated) over the live space's parameters, plus ``--fixed
name=value``. A width of a deeper layer that is neither in the grid nor fixed takes layer 0's width
(``n_conv_1 = n_conv_0``), so one grid entry sets every active layer.
"""

from __future__ import annotations

import itertools
import json
import math
import os
import platform
import sys
import time
from importlib import metadata
from pathlib import Path
from typing import Any

import pandas as pd

import tabular_data
from tasks.command_line import OneLineParser, non_negative_int, positive_int
from tasks.live.cnn import MAX_LAYERS

#: the grid of the shipped table ``tabular_data/cnn-digits-mf.parquet``
DEFAULT_GRID: dict[str, list[Any]] = {
    "n_conv_l": [1, 2, 3],
    "n_conv_0": [16, 64],
    "n_fc_0": [16, 128],
    "lr_init": [0.001, 0.01],
    "batch_norm": [False, True],
}
DEFAULT_FIXED: dict[str, Any] = {"n_fc_l": 1, "kernel_size": 3, "global_avg_pooling": False, "batch_size": 128}


def parse_value(text: str) -> Any:
    """``true``/``false`` -> bool, then int, then float, else the string."""
    if text.lower() in ("true", "false"):
        return text.lower() == "true"
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return text


def parse_assignments(items: list[str], multiple: bool) -> dict[str, Any]:
    parsed: dict[str, Any] = {}
    for item in items:
        name, sep, values = item.partition("=")
        if not sep or not name or not values:
            raise ValueError(f"expected name=value{',value...' if multiple else ''}, got {item!r}")
        parsed[name] = [parse_value(v) for v in values.split(",")] if multiple else parse_value(values)
    return parsed


def grid_configs(grid: dict[str, list[Any]], fixed: dict[str, Any]) -> list[dict[str, Any]]:
    """Every grid point as a full configuration of the live space (checked against it), in grid order."""
    from ConfigSpace import Configuration

    from tasks.live.cnn import cnn_space

    space = cnn_space()
    overlap = set(grid) & set(fixed)
    if overlap:
        raise ValueError(f"parameters both in the grid and fixed: {sorted(overlap)}")
    unknown = (set(grid) | set(fixed)) - set(space.keys())
    if unknown:
        raise ValueError(f"unknown parameters {sorted(unknown)}; the space has {sorted(space.keys())}")
    configs = []
    for point in itertools.product(*grid.values()):
        config = {**fixed, **dict(zip(grid, point))}
        for prefix, count in (("n_conv", "n_conv_l"), ("n_fc", "n_fc_l")):
            for i in range(1, MAX_LAYERS):
                name = f"{prefix}_{i}"
                if i < int(config[count]):
                    config.setdefault(name, config[f"{prefix}_0"])
                else:
                    config.pop(name, None)
        try:
            Configuration(space, values=config).check_valid_configuration()
        except Exception as error:  # ConfigSpace raises several types for the same mistake
            raise ValueError(f"grid point {config} is not in the CNN space: {error}") from None
        configs.append(config)
    return configs


_DATA_CACHE: dict[tuple[str, str | None], Any] = {}


def evaluate_point(
    dataset: str, data_dir: str | None, config: dict[str, Any], seed: int, epochs: int, meter: str, device: str,
    latency_repeats: int,
) -> list[dict[str, Any]]:
    """One training run on a worker (``tasks.live.measure``): a row per epoch, each with the trained model's
    size, latency and energy."""
    import numpy as np

    from tasks.live.data import load_dataset
    from tasks.live.measure import measure
    from tasks.live.meters import select_meter

    key = (dataset, data_dir)
    if key not in _DATA_CACHE:
        _DATA_CACHE[key] = load_dataset(dataset, data_dir)
    measured = measure(config, _DATA_CACHE[key], epochs, seed, select_meter(meter, device), device, latency_repeats)
    latency, energy = measured.latency, measured.energy
    return [
        {
            "seed": seed, "epoch": r.epoch, "val_error": 1.0 - r.val_accuracy, "test_error": 1.0 - r.test_accuracy,
            "train_loss": r.train_loss if math.isfinite(r.train_loss) else np.nan, "train_time_s": r.train_time_s,
            "n_params": measured.n_params, "log10_params": math.log10(measured.n_params),
            "latency_ms": latency.median_ms, "latency_q25_ms": latency.q25_ms, "latency_q75_ms": latency.q75_ms,
            "energy_mj": energy.mj, "meter": energy.meter, "energy_reason": energy.reason,
        }
        for r in measured.records
    ]


def _versions() -> dict[str, str]:
    versions = {"python": platform.python_version()}
    for package in ("torch", "numpy", "ConfigSpace", "dask", "distributed", "scikit-learn", "pandas", "pyarrow"):
        try:
            versions[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            versions[package] = "absent"
    return versions


def _device_description(device: str) -> dict[str, Any]:
    import torch

    described: dict[str, Any] = {"torch_device": device, "machine": platform.machine(), "cpu": platform.processor(),
                                 "cpu_count": os.cpu_count(), "system": platform.platform()}
    if device.startswith("cuda"):
        described["gpu"] = torch.cuda.get_device_name(torch.device(device))
    # Linux names the CPU in /proc/cpuinfo and a Jetson its board in the device tree
    # (platform.processor() is empty on Linux)
    for key, path, field in (("cpu", "/proc/cpuinfo", "model name"), ("board", "/proc/device-tree/model", None)):
        try:
            text = Path(path).read_text(errors="replace")
        except OSError:
            continue
        if field is None:
            described[key] = text.strip("\x00\n ")
        else:
            described[key] = next((line.split(":", 1)[1].strip() for line in text.splitlines()
                                   if line.startswith(field)), described[key])
    return described


def _write_atomic(path: Path, write: Any) -> None:
    temporary = path.with_name(path.name + ".tmp")
    write(temporary)
    os.replace(temporary, path)


def _check_same_measurement(table_path: Path, previous: dict[str, Any], provenance: dict[str, Any]) -> None:
    """A resume must measure as the build it continues did: never CPU and GPU latencies, nor two
    measurement protocols, in one table. A key the previous build did not record is not compared (the
    shipped table predates ``protocol``, and was measured by the protocol ``measure`` has now)."""
    device_keys = ("torch_device", "cpu", "gpu", "board")
    for key in ("dataset", "data_sha256", "meter", "latency_repeats", "protocol", "device"):
        if key not in previous:
            continue
        old, new = previous[key], provenance[key]
        if key == "device":
            old, new = ({k: d.get(k) for k in device_keys} for d in (old, new))
        if old != new:
            raise ValueError(f"{table_path} was measured with {key} {old}, this build has {new}; pick another --name")


def build(
    name: str, dataset: str, grid: dict[str, list[Any]], fixed: dict[str, Any], seeds: list[int], epochs: int,
    out: Path, n_workers: int = 2, scheduler: str | None = None, meter: str = "auto", device: str = "cpu",
    data_dir: str | None = None, latency_repeats: int = 50, command: str = "",
) -> pd.DataFrame:
    """Build (or resume) the table ``out/<name>.parquet``; returns it. ``command`` is recorded in the
    provenance as the command line that made it."""
    if epochs < 1 or not seeds or n_workers < 1:
        raise ValueError(f"need epochs >= 1, at least one seed and n_workers >= 1; got {epochs}, {seeds}, {n_workers}")
    configs = grid_configs(grid, fixed)

    from dask.distributed import Client, LocalCluster, as_completed

    from tasks.live.data import load_dataset
    from tasks.live.measure import PROTOCOL
    from tasks.live.meters import select_meter

    table_path = out / f"{name}.parquet"
    provenance_path = out / f"{name}.provenance.json"
    out.mkdir(parents=True, exist_ok=True)
    done = pd.read_parquet(table_path) if table_path.exists() else pd.DataFrame()
    previous = json.loads(provenance_path.read_text()) if provenance_path.exists() else {}
    if previous and (previous.get("grid") != grid or previous.get("fixed") != fixed or previous.get("epochs") != epochs):
        raise ValueError(f"{table_path} was built with another grid, fixed values or epochs; pick another --name")
    finished = set() if done.empty else {tuple(k) for k in done[[*grid, "seed"]].drop_duplicates().itertuples(index=False)}
    # seed-major order: a build stopped early still covers every configuration with some seed
    todo = [(config, seed) for seed in seeds for config in configs
            if (*(config[p] for p in grid), seed) not in finished]
    if not todo and previous.get("status") == "complete":
        # rewriting the provenance would stamp this machine's versions on a table measured elsewhere
        print(f"{name}: complete, nothing to do", flush=True)
        return done
    data = load_dataset(dataset, data_dir)
    choice = select_meter(meter, device)
    provenance = {
        "table": name, "dataset": dataset, "data_sha256": data.sha256(), "grid": grid, "fixed": fixed,
        "seeds": seeds, "epochs": epochs, "device": _device_description(device), "meter": choice.name,
        "meter_reason": choice.reason, "versions": _versions(), "n_workers": n_workers,
        "started": previous.get("started", time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())),
        "wall_s": previous.get("wall_s", 0.0), "command": command,
        "note": previous.get("note", ""),  # a hand-written remark about the build survives a resume
        "latency_repeats": latency_repeats, "protocol": PROTOCOL,
    }
    _check_same_measurement(table_path, previous, provenance)
    parts = [] if done.empty else [done]
    began = time.perf_counter()
    wall_before = provenance["wall_s"]
    print(f"{name}: {len(configs)} configurations x {len(seeds)} seeds, {len(todo)} runs to do", flush=True)

    def save(status: str) -> None:
        provenance["status"] = status
        provenance["wall_s"] = wall_before + time.perf_counter() - began
        provenance["updated"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        if parts:
            table = pd.concat(parts, ignore_index=True)
            _write_atomic(table_path, lambda p: table.to_parquet(p, index=False))
        _write_atomic(provenance_path, lambda p: p.write_text(json.dumps(provenance, indent=1) + "\n"))

    if todo:
        cluster = None if scheduler else LocalCluster(n_workers=n_workers, threads_per_worker=1, processes=True,
                                                      dashboard_address=None)
        with Client(scheduler or cluster) as client:
            futures = {
                client.submit(evaluate_point, dataset, data_dir, config, seed, epochs, meter, device, latency_repeats,
                              pure=False): (config, seed)
                for config, seed in todo
            }
            for count, future in enumerate(as_completed(futures), 1):
                config, seed = futures[future]
                rows = pd.DataFrame(future.result())
                for parameter in reversed(list(grid)):
                    rows.insert(0, parameter, config[parameter])
                parts.append(rows)
                save("partial")
                print(f"[{count}/{len(todo)}] seed {seed} {config}: val_error {rows['val_error'].iloc[-1]:.3f}", flush=True)
        if cluster is not None:
            cluster.close()
    save("complete")
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()


def main(argv: list[str] | None = None) -> int:
    parser = OneLineParser(prog="python -m tasks.live.build_table",
                           description="Measure a multi-fidelity table of the live CNN task with Dask.")
    parser.add_argument("--name", default="cnn-digits-mf", help="table name (file stem under --out)")
    parser.add_argument("--dataset", default="digits", choices=["digits", "fashion-mnist", "flowers17"])
    parser.add_argument("--data-dir", default=None, help="folder of the data set's files (fashion-mnist, flowers17)")
    parser.add_argument("--grid", action="append", default=[], metavar="NAME=V1,V2",
                        help="a grid axis; default: the shipped table's grid")
    parser.add_argument("--fixed", action="append", default=[], metavar="NAME=V", help="a fixed parameter")
    parser.add_argument("--seeds", type=non_negative_int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--epochs", type=positive_int, default=25)
    parser.add_argument("--n-workers", type=positive_int, default=2, help="LocalCluster worker processes (1 thread each)")
    parser.add_argument("--scheduler", default=None, help="address of an existing Dask scheduler instead")
    parser.add_argument("--meter", default="auto", choices=["auto", "nvml", "ina3221", "rapl", "none"])
    parser.add_argument("--device", default="cpu", help="torch device: cpu, cuda, cuda:1")
    parser.add_argument("--latency-repeats", type=positive_int, default=50)
    parser.add_argument("--out", type=Path, default=tabular_data.FOLDER)
    argv = sys.argv[1:] if argv is None else list(argv)
    args = parser.parse_args(argv)
    try:
        grid = parse_assignments(args.grid, multiple=True) if args.grid else dict(DEFAULT_GRID)
        fixed = parse_assignments(args.fixed, multiple=False) if (args.fixed or args.grid) else dict(DEFAULT_FIXED)
        build(args.name, args.dataset, grid, fixed, args.seeds, args.epochs, args.out, args.n_workers, args.scheduler,
              args.meter, args.device, args.data_dir, args.latency_repeats,
              " ".join(["python -m tasks.live.build_table", *argv]))
    except (ValueError, FileNotFoundError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
