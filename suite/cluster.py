"""Where the suite runs: a loopback LocalCluster, an existing Dask scheduler, or a batch system.

Batch systems (SLURM, PBS, SGE, LSF) go through dask-jobqueue: the ``cluster:`` section of the suite's
config file names the kind and the batch options, which are handed to ``SLURMCluster`` & co. as they
are (so every option dask-jobqueue documents works), plus two of ours: ``jobs`` (how many batch jobs to
submit) and ``gpus`` (GPUs per job: the job starts one worker process per GPU, each offering the Dask
resource ``GPU=1``; on SLURM a ``--gres=gpu:n`` directive is added unless one is given).
"""

from __future__ import annotations

import atexit
import contextlib
import inspect
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

from suite.process import exit_without_teardown

JOBQUEUE = {"slurm": "SLURMCluster", "pbs": "PBSCluster", "sge": "SGECluster", "lsf": "LSFCluster"}
KINDS = ("local", *JOBQUEUE)
#: our own keys of the ``cluster:`` section; every other key goes to the dask-jobqueue class
OWN_KEYS = ("kind", "jobs", "gpus")
#: dask-jobqueue arguments the suite sets itself
RESERVED = ("self", "n_workers", "job_cls", "loop", "asynchronous", "scheduler", "name", "config_name",
            "dashboard_address", "host")  # the last two belong in scheduler_options


@dataclass(frozen=True)
class ClusterConfig:
    """``kind`` is local or a batch system; ``options`` go to the dask-jobqueue class unchanged."""

    kind: str = "local"
    jobs: int = 1
    gpus: int = 0
    options: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class TLSConfig:
    """Certificate files for a TLS connection to a shared scheduler (see docs/cluster.md)."""

    ca_file: Path
    cert: Path
    key: Path

    def security(self) -> Any:
        from distributed import Security

        return Security(tls_ca_file=str(self.ca_file), tls_client_cert=str(self.cert),
                        tls_client_key=str(self.key), require_encryption=True)


def _jobqueue_class(kind: str) -> type:
    import dask_jobqueue

    return getattr(dask_jobqueue, JOBQUEUE[kind])


def accepted_options(kind: str) -> list[str]:
    """The batch options a dask-jobqueue cluster of this kind takes (from its and its job's signatures)."""
    import dask_jobqueue.core

    cls = _jobqueue_class(kind)
    names: set[str] = set()
    for function in (cls.__init__, cls.job_cls.__init__, dask_jobqueue.core.Job.__init__):
        names |= {p.name for p in inspect.signature(function).parameters.values()
                  if p.kind not in (inspect.Parameter.VAR_KEYWORD, inspect.Parameter.VAR_POSITIONAL)}
    return sorted(names - set(RESERVED))


def parse_cluster(value: Any) -> ClusterConfig:
    """A ClusterConfig from ``"slurm"`` or ``{kind: slurm, cores: 8, ...}``; ValueError names the mistake."""
    if isinstance(value, str):
        value = {"kind": value}
    if not isinstance(value, dict):
        raise ValueError(f"cluster: expected a kind ({', '.join(KINDS)}) or a mapping, got {value!r}")
    options = dict(value)
    kind = options.pop("kind", "local")
    if kind not in KINDS:
        raise ValueError(f"cluster: unknown kind {kind!r}; expected one of {', '.join(KINDS)}")
    jobs = options.pop("jobs", 1)
    gpus = options.pop("gpus", 0)
    for name, number, least in (("jobs", jobs, 1), ("gpus", gpus, 0)):
        if isinstance(number, bool) or not isinstance(number, int) or number < least:
            raise ValueError(f"cluster: {name} must be an integer >= {least}, got {number!r}")
    if kind == "local":
        if options or jobs != 1 or gpus:
            raise ValueError(f"cluster: kind local takes no batch options, got {sorted(value)}; "
                             "set kind to slurm, pbs, sge or lsf")
        return ClusterConfig()
    if gpus and options.setdefault("processes", gpus) != gpus:
        raise ValueError(f"cluster: with gpus: {gpus}, processes must be {gpus} (one worker process per GPU), "
                         f"got {options['processes']!r}")
    unknown = sorted(set(options) - set(accepted_options(kind)))
    if unknown:
        raise ValueError(f"cluster: {kind} has no option(s) {', '.join(unknown)}; "
                         f"its options: {', '.join([*OWN_KEYS[1:], *accepted_options(kind)])}")
    return ClusterConfig(kind=kind, jobs=jobs, gpus=gpus, options=options)


def parse_tls(value: Any) -> TLSConfig:
    if not isinstance(value, dict) or set(value) != {"ca_file", "cert", "key"}:
        raise ValueError(f"tls: expected a mapping with ca_file, cert and key, got {value!r}")
    paths = {k: Path(os.path.expanduser(str(v))) for k, v in value.items()}
    for name, path in paths.items():
        if not path.is_file():
            raise ValueError(f"tls: {name} file {path} does not exist")
    return TLSConfig(**paths)


def dask_setup(worker: Any) -> None:
    """Dask's worker preload hook, run in each worker process of the suite's own local cluster (``local_cluster``
    names this module): once the worker has closed, its process ends without the interpreter's teardown.

    A spawned worker process ends with ``sys.exit``, whose teardown of the baselines' libraries (Optuna, SMAC,
    scipy, torch) outlasted the nanny's 4 s wait under load, and the nanny then killed it: the suite's last
    seconds were spent waiting for that. Every run's files are written and closed when its Dask task returns, so
    nothing is left to flush but the standard streams. Never for workers the suite did not start.
    """
    atexit.register(_exit_at_once)


def _exit_at_once() -> None:
    # registered last, so run first of the exit handlers, after Dask's worker has closed and its threads ended. The
    # exit status is 0 because an exit handler cannot read the one sys.exit was given; the nanny only logs it, and a
    # worker that raised has printed its traceback already.
    atexit.unregister(_exit_at_once)
    exit_without_teardown(0)


def jobqueue_cluster(config: ClusterConfig, security: Any = None) -> Any:
    """A dask-jobqueue cluster (its scheduler starts here; no job is submitted before ``scale``)."""
    kwargs = dict(config.options)
    if config.gpus:
        kwargs["worker_extra_args"] = [*kwargs.get("worker_extra_args", []), "--resources", "GPU=1"]
        directives = list(kwargs.get("job_extra_directives", []))
        if config.kind == "slurm" and not any("gres" in d or "gpus" in d for d in directives):
            directives.append(f"--gres=gpu:{config.gpus}")
        kwargs["job_extra_directives"] = directives
    if security is not None:
        kwargs["security"] = security
    return _jobqueue_class(config.kind)(**kwargs)


def connect_timeout_s() -> float:
    """Dask's connect timeout (``distributed.comm.timeouts.connect``, 30 s unless configured), in seconds."""
    import dask
    from dask.utils import parse_timedelta

    return float(parse_timedelta(dask.config.get("distributed.comm.timeouts.connect"), default="seconds"))


def check_scheduler(address: str, security: Any = None) -> None:
    """Ask ``address`` for its identity within Dask's connect timeout; ValueError (one line) unless a Dask
    scheduler answers.

    ``Client`` alone waits for ever when something else listens there (an HTTP server never completes Dask's
    handshake) and may read a stranger's bytes as a frame length; this asks once, bounded, first.
    """
    import asyncio
    import socket

    from distributed.comm import connect
    from distributed.comm.addressing import parse_address, parse_host_port

    timeout = connect_timeout_s()
    protocol, location = parse_address(address)
    if protocol in ("tcp", "tls"):
        host, port = parse_host_port(location)
        try:  # a refused or unknown address answers at once, before Dask's retries use up the timeout
            socket.create_connection((host, port), timeout=timeout).close()
        except OSError as error:
            raise ValueError(f"cannot reach the Dask scheduler {address}: {error.strerror or error}") from None

    async def identity() -> Any:
        args = security.get_connection_args("client") if security is not None else {}
        comm = await connect(address, timeout=timeout, **args)
        try:
            await comm.write({"op": "identity", "reply": True})
            return await comm.read()
        finally:
            comm.abort()

    try:
        reply = asyncio.run(asyncio.wait_for(identity(), timeout))
    except (TimeoutError, asyncio.TimeoutError):
        raise ValueError(f"no Dask scheduler answered at {address} within {timeout:g} s (Dask's connect timeout, "
                         "distributed.comm.timeouts.connect): something else listens there, or the scheduler is "
                         "busy; check the address and port") from None
    except Exception as error:  # a stranger's bytes, a TLS mismatch, a closed connection: one line, no traceback
        raise ValueError(f"no Dask scheduler at {address}: {type(error).__name__}: "
                         f"{' '.join(str(error).split())}") from None
    kind = reply.get("type") if isinstance(reply, dict) else None
    if kind != "Scheduler":
        raise ValueError(f"{address} is a Dask {kind or 'server'}, not a scheduler; give the scheduler's address")


@contextlib.contextmanager
def open_client(
    cluster: ClusterConfig, scheduler: str | None = None, dask_workers: int | None = None,
    tls: TLSConfig | None = None,
) -> Iterator[Any]:
    """A Dask client of the suite's cluster, closed (and a cluster we started, shut down) on exit.

    ``scheduler`` is an address (``tcp://host:port``, ``tls://...``) or a scheduler JSON file; it
    wins over ``cluster``. Raises ValueError with one line when the scheduler does not answer within
    Dask's connect timeout or dask-jobqueue refuses the batch options.
    """
    from distributed import Client

    from suite.dispatch import local_cluster

    security = tls.security() if tls is not None else None
    with contextlib.ExitStack() as stack:
        try:
            if scheduler is not None:
                address = scheduler
                if Path(scheduler).is_file():  # checked as JSON with an address by the suite's config
                    address = json.loads(Path(scheduler).read_text())["address"]
                check_scheduler(address, security)
                client = stack.enter_context(Client(address, security=security))
            elif cluster.kind == "local":
                client = stack.enter_context(Client(stack.enter_context(local_cluster(dask_workers))))
            else:
                batch = stack.enter_context(jobqueue_cluster(cluster, security))
                batch.scale(jobs=cluster.jobs)
                client = stack.enter_context(Client(batch, security=security))
        except (OSError, TimeoutError) as error:
            raise ValueError(f"cannot reach the Dask scheduler {scheduler or cluster.kind}: {error}") from None
        yield client
