"""Executors behind the ``concurrent.futures.Executor`` interface.

``serial`` (in this process), ``processes`` (one worker per core, the
default) and ``dask`` (a running Dask cluster at ``scheduler``, or a
``LocalCluster`` on 127.0.0.1). Dask is the optional extra ``trustsim[cluster]``.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable, Iterator
from concurrent.futures import Executor, Future, ProcessPoolExecutor
from contextlib import contextmanager
from typing import Any

from trustsim.config import ConfigError

BACKENDS = ("serial", "processes", "dask")


class SerialExecutor(Executor):
    """Runs each call at submission, in this process: simple to debug and to interrupt."""

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        """Run ``fn(*args, **kwargs)`` now; its result or exception goes into the future."""
        future: Future[Any] = Future()
        try:
            future.set_result(fn(*args, **kwargs))
        except Exception as exc:
            future.set_exception(exc)
        return future


@contextmanager
def make_executor(
    backend: str = "processes", *, workers: int | None = None, scheduler: str | None = None
) -> Iterator[Executor]:
    """An executor for ``backend``, shut down (and its cluster closed) on exit."""
    if backend not in BACKENDS:
        raise ConfigError(f"--backend: must be one of {', '.join(BACKENDS)} (got {backend!r})")
    if workers is not None and workers < 1:
        raise ConfigError(f"--workers: must be at least 1 (got {workers})")
    if scheduler is not None and backend != "dask":
        raise ConfigError("--scheduler: only with --backend dask")
    n = workers or os.cpu_count() or 1
    if backend == "serial":
        yield SerialExecutor()
    elif backend == "processes":
        # spawn: workers start clean, with no copy of the parent's state or threads
        with ProcessPoolExecutor(
            max_workers=n, mp_context=multiprocessing.get_context("spawn")
        ) as pool:
            yield pool
    else:
        with _dask_executor(n, scheduler) as executor:
            yield executor


@contextmanager
def _dask_executor(workers: int, scheduler: str | None) -> Iterator[Executor]:
    try:
        from distributed import Client, LocalCluster
    except ImportError:
        raise ConfigError(
            "--backend dask: needs the cluster extra: pip install 'trustsim[cluster]'"
        ) from None
    cluster = None
    if scheduler is None:
        cluster = LocalCluster(
            n_workers=workers,
            threads_per_worker=1,
            processes=True,
            host="127.0.0.1",
            dashboard_address=None,
        )
    try:
        client = Client(cluster if cluster is not None else scheduler, timeout="20s")
    except OSError as exc:
        if cluster is not None:
            cluster.close()
        raise ConfigError(
            f"--scheduler: cannot reach a Dask scheduler at {scheduler!r} "
            f"({exc}); give tcp://HOST:PORT of a running scheduler"
        ) from None
    try:
        # pure=False: calls with equal arguments must stay separate tasks
        yield client.get_executor(pure=False)
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
