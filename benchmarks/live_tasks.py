"""Seconds per training epoch and CPU inference latency of the live CNN tasks. Every figure is measured here.

    python benchmarks/live_tasks.py [--datasets digits fashion-mnist flowers17] [--threads 2] [--max-batches 40]

epochs:  seconds per epoch with ``--threads`` torch threads, for a small and a large configuration on each
         data set. An epoch is timed whole when it has at most ``--max-batches`` mini-batches; otherwise the
         first ``--max-batches`` batches (after one untimed warm-up batch) are timed and scaled to the
         epoch's batch count, which the output says.
latency: batch-1 forward pass on one thread (what the tasks report): median and interquartile range over
         ``--repeats`` passes after 10 warm-up passes, for three configurations per data set.
Data sets whose files are absent are skipped with the reason.
"""

from __future__ import annotations

import argparse
import time

import torch
from torch import nn

from tasks.live.cnn import Architecture, make_model, parameter_count
from tasks.live.data import load_dataset
from tasks.live.latency import measure_latency
from tasks.threads import torch_threads

BASE = {"n_fc_l": 1, "kernel_size": 3, "lr_init": 1e-3, "global_avg_pooling": False}
CONFIGS = {
    "small": {**BASE, "n_conv_l": 1, "n_conv_0": 16, "n_fc_0": 16, "batch_norm": False, "batch_size": 128},
    "medium": {**BASE, "n_conv_l": 2, "n_conv_0": 64, "n_conv_1": 64, "n_fc_0": 128, "batch_norm": True,
               "batch_size": 64},
    "large": {**BASE, "n_conv_l": 3, "n_conv_0": 256, "n_conv_1": 256, "n_conv_2": 256, "n_fc_l": 3, "n_fc_0": 256,
              "n_fc_1": 256, "n_fc_2": 256, "kernel_size": 5, "batch_norm": True, "batch_size": 64},
}


def seconds_per_epoch(config: dict, data, max_batches: int) -> tuple[float, str]:
    model = make_model(config, data.input_shape, data.n_classes, seed=0)
    optimiser = torch.optim.Adam(model.parameters(), lr=config["lr_init"])
    loss_fn = nn.CrossEntropyLoss()
    x, y = torch.from_numpy(data.x_train), torch.from_numpy(data.y_train)
    batch = config["batch_size"]
    order = torch.randperm(len(x), generator=torch.Generator().manual_seed(0))
    batches = [order[i : i + batch] for i in range(0, len(order), batch)]

    def step(index: torch.Tensor) -> None:
        optimiser.zero_grad()
        loss_fn(model(x[index]), y[index]).backward()
        optimiser.step()

    model.train()
    step(batches[0])  # warm-up (allocations, kernel selection)
    timed = batches if len(batches) <= max_batches else batches[1 : 1 + max_batches]
    started = time.perf_counter()
    for index in timed:
        step(index)
    elapsed = time.perf_counter() - started
    if timed is batches:
        return elapsed, f"whole epoch, {len(batches)} batches"
    return elapsed * len(batches) / len(timed), f"{len(timed)} of {len(batches)} batches, scaled"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--datasets", nargs="+", default=["digits", "fashion-mnist", "flowers17"])
    parser.add_argument("--data-dir", action="append", default=[], metavar="DATASET=PATH")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--max-batches", type=int, default=40)
    parser.add_argument("--repeats", type=int, default=200)
    args = parser.parse_args()
    folders = dict(item.split("=", 1) for item in args.data_dir)
    print(f"torch {torch.__version__}, {args.threads} threads for training, 1 thread for latency")
    print(f"{'data set':14} {'config':7} {'params':>10} {'s/epoch':>9}  {'latency ms (median, IQR)':>26}  how")
    for dataset in args.datasets:
        try:
            data = load_dataset(dataset, folders.get(dataset))
        except (FileNotFoundError, ValueError) as error:
            print(f"{dataset:14} skipped: {error}")
            continue
        for name, config in CONFIGS.items():
            params = parameter_count(Architecture.from_config(config), data.input_shape, data.n_classes)
            if name == "medium":
                epoch, how = float("nan"), "latency only"
            else:
                with torch_threads(args.threads):
                    epoch, how = seconds_per_epoch(config, data, args.max_batches)
            model = make_model(config, data.input_shape, data.n_classes, seed=0)
            latency = measure_latency(model, data.input_shape, repeats=args.repeats)
            print(f"{dataset:14} {name:7} {params:>10,} {epoch:>9.3f}  {latency.median_ms:>12.3f} {latency.iqr_ms:>12.3f}  {how}")


if __name__ == "__main__":
    main()
