"""The prepared check of everything that needs an NVIDIA GPU (``make gpu-check``); a few minutes on one.

1. The GPU-marked tests (``pytest -m gpu``: CUDA-event latency, the NVML energy counter).
2. One live evaluation of ``cnn-digits`` (a small configuration, 2 epochs) trained on the GPU, with its
   latency timed by CUDA events and its energy read from NVML.
3. A short table build on the GPU (2 configurations, 1 seed, 2 epochs, one Dask worker) into a
   temporary folder, whose rows must carry NVML energy.

It prints what it measured and exits 1 on any failure. Without a CUDA GPU it prints one line saying so
and exits 0; where NVML sees an NVIDIA GPU but torch cannot use it (a CPU build of torch, as ``make
install`` puts in), that is a failure, with the fix in the message.

    python benchmarks/gpu_check.py
"""

from __future__ import annotations

import math
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parent.parent
SMALL = {"n_conv_l": 1, "n_conv_0": 16, "n_fc_l": 1, "n_fc_0": 16, "kernel_size": 3, "lr_init": 0.01,
         "batch_norm": False, "batch_size": 128, "global_avg_pooling": False}
EPOCHS = 2


def nvidia_gpus() -> int:
    """NVIDIA GPUs the driver sees (through NVML, independent of torch); 0 without a driver."""
    try:
        import pynvml

        pynvml.nvmlInit()
        return int(pynvml.nvmlDeviceGetCount())
    except Exception:  # no library, no driver, no device: NVML reports each by its own error type
        return 0


def gpu_tests() -> list[str]:
    print("== pytest -m gpu", flush=True)
    done = subprocess.run([sys.executable, "-m", "pytest", "-m", "gpu", "-q", "-rs", "-s", "-p", "no:cacheprovider",
                           "tests"], cwd=ROOT)
    return [] if done.returncode == 0 else [f"pytest -m gpu exited {done.returncode}"]


def live_evaluation() -> list[str]:
    from tasks.live.task import CNNTask

    print(f"== cnn-digits on cuda, {EPOCHS} epochs, {SMALL}", flush=True)
    task = CNNTask("digits", device="cuda", meter="auto")
    result = task.evaluate(SMALL, fidelity=EPOCHS, seed=0)
    info = result.info
    print(f"error {result.objectives['error']:.4f}, parameters {info['n_params']}, "
          f"latency {result.objectives['latency_ms']:.4f} ms (IQR {info['latency_q25_ms']:.4f}-"
          f"{info['latency_q75_ms']:.4f}), energy {info['energy_mj']} mJ per inference ({info['meter']}), "
          f"training {info['train_time_s']:.2f} s, evaluation {result.cost_s:.2f} s on {info['device']}")
    failures = []
    if result.status != "ok":
        failures.append(f"live evaluation status {result.status}")
    if not info["meter"].startswith("nvml") or info["energy_mj"] is None or not info["energy_mj"] > 0:
        failures.append(f"live evaluation has no NVML energy: {info.get('missing', info['meter'])}")
    if not result.objectives["latency_ms"] > 0:
        failures.append(f"live evaluation latency {result.objectives['latency_ms']} ms")
    return failures


def table_build() -> list[str]:
    from tasks.live.build_table import build

    print(f"== table build on cuda: n_conv_l 1,2 x seed 0 x {EPOCHS} epochs, one Dask worker", flush=True)
    fixed = {k: v for k, v in SMALL.items() if k != "n_conv_l"}
    with tempfile.TemporaryDirectory() as folder:
        table = build("gpu-check", "digits", {"n_conv_l": [1, 2]}, fixed, [0], EPOCHS, Path(folder), n_workers=1,
                      meter="auto", device="cuda", latency_repeats=50)
    last = table[table["epoch"] == EPOCHS]
    print(last[["n_conv_l", "val_error", "n_params", "latency_ms", "energy_mj", "meter"]].to_string(index=False))
    failures = []
    if len(table) != 2 * EPOCHS:
        failures.append(f"table build wrote {len(table)} rows, expected {2 * EPOCHS}")
    if not all(m.startswith("nvml") for m in table["meter"]) or not all(math.isfinite(e) and e > 0
                                                                          for e in table["energy_mj"]):
        failures.append(f"table rows without NVML energy: {sorted(set(table['energy_reason']))}")
    return failures


def main() -> int:
    if not torch.cuda.is_available():
        gpus = nvidia_gpus()
        if gpus:
            print(f"gpu-check: FAILED: NVML sees {gpus} NVIDIA GPU(s) but torch {torch.__version__} cannot use them "
                  f"(CUDA build: {torch.version.cuda}); install a CUDA build of torch into this environment",
                  file=sys.stderr)
            return 1
        print(f"gpu-check: no CUDA GPU here (torch {torch.__version__}: torch.cuda.is_available() is False); "
              f"nothing checked")
        return 0
    print(f"gpu-check on {torch.cuda.get_device_name(0)}, torch {torch.__version__} (CUDA {torch.version.cuda})")
    began = time.perf_counter()
    failures = []
    for step in (gpu_tests, live_evaluation, table_build):
        try:
            failures += step()
        except Exception as error:  # report every step, whatever broke in one
            failures.append(f"{step.__name__}: {type(error).__name__}: {error}")
    print(f"gpu-check: {time.perf_counter() - began:.0f} s")
    for failure in failures:
        print(f"gpu-check: FAILED: {failure}", file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    raise SystemExit(main())
