"""What a small job starts: as many local Dask workers as its runs can use, one of them in this process."""

from __future__ import annotations

import os

from distributed import Client

from suite.dispatch import local_cluster, local_workers
from suite.spec import Budget, RunSpec


def spec(n_workers: int = 1, seed: int = 0) -> RunSpec:
    return RunSpec("random_search", "fcnet-naval", seed, Budget(evaluations=10), n_workers=n_workers)


def test_a_suite_gets_one_worker_per_run_it_can_keep_busy_and_at_most_the_cores() -> None:
    assert local_workers([spec()], cores=2) == 1
    assert local_workers([spec(seed=s) for s in range(45)], cores=2) == 2
    assert local_workers([spec(n_workers=3)], cores=8) == 3  # a live run trains three configurations at once
    assert local_workers([], cores=4) == 1


def test_a_single_worker_runs_in_this_process_and_several_in_their_own() -> None:
    with local_cluster(1) as cluster, Client(cluster) as client:
        assert set(client.run(os.getpid).values()) == {os.getpid()}
        assert client.submit(sum, [1, 2]).result() == 3
        assert all(w.startswith("tcp://127.0.0.1:") for w in client.scheduler_info()["workers"])
    with local_cluster(2) as cluster, Client(cluster) as client:
        pids = set(client.run(os.getpid).values())
        assert len(pids) == 2 and os.getpid() not in pids
