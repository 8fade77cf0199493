"""Executors behind the ``concurrent.futures.Executor`` interface.

``serial`` (in this process), ``processes`` (one worker per core, the
default) and ``dask`` (a running Dask cluster at ``scheduler``, or a
``LocalCluster`` on 127.0.0.1). Dask is the optional extra ``trustsim[cluster]``.

Runs in parallel share the cores between them, so by default each run of the
``processes`` and ``dask`` backends uses one thread, and a serial run every core;
``threads`` caps it (:class:`ThreadCapped`).
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


def in_threads(threads: int | None, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Any:
    """``fn(*args, **kwargs)`` with the compiled kernels capped at ``threads`` threads
    (numba's cap belongs to the calling thread, so it is set where the run happens)."""
    from trustsim.kernels import use_threads

    use_threads(threads)
    return fn(*args, **kwargs)


class ThreadCapped(Executor):
    """Another executor whose calls each run the kernels on at most ``threads`` threads
    (None: every core), on whichever worker and thread they land."""

    def __init__(self, inner: Executor, threads: int | None) -> None:
        self.inner, self.threads = inner, threads

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        """Submit ``fn(*args, **kwargs)`` to the inner executor, under the thread cap."""
        return self.inner.submit(in_threads, self.threads, fn, *args, **kwargs)

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        """Shut the inner executor down."""
        self.inner.shutdown(wait=wait, cancel_futures=cancel_futures)


def capped(executor: Executor, threads: int | None = None) -> ThreadCapped:
    """``executor`` with its runs capped at ``threads`` threads; by default every core
    for a :class:`SerialExecutor` and one thread per run for any other (runs in
    parallel already share the cores). An executor capped before keeps its cap unless
    ``threads`` is given."""
    if isinstance(executor, ThreadCapped):
        return executor if threads is None else ThreadCapped(executor.inner, threads)
    if threads is None and not isinstance(executor, SerialExecutor):
        threads = 1
    return ThreadCapped(executor, threads)


@contextmanager
def make_executor(
    backend: str = "processes",
    *,
    workers: int | None = None,
    scheduler: str | None = None,
    threads: int | None = None,
) -> Iterator[ThreadCapped]:
    """An executor for ``backend``, shut down (and its cluster closed) on exit. Each run
    uses at most ``threads`` threads; by default every core in ``serial``, one thread
    per worker in ``processes`` and ``dask``."""
    if backend not in BACKENDS:
        raise ConfigError(f"--backend: must be one of {', '.join(BACKENDS)} (got {backend!r})")
    if workers is not None and workers < 1:
        raise ConfigError(f"--workers: must be at least 1 (got {workers})")
    if threads is not None and threads < 1:
        raise ConfigError(f"--threads: must be at least 1 (got {threads})")
    if scheduler is not None and backend != "dask":
        raise ConfigError("--scheduler: only with --backend dask")
    n = workers or os.cpu_count() or 1
    if backend == "serial":
        yield capped(SerialExecutor(), threads)
    elif backend == "processes":
        # spawn: workers start clean, with no copy of the parent's state or threads
        with ProcessPoolExecutor(
            max_workers=n, mp_context=multiprocessing.get_context("spawn")
        ) as pool:
            yield capped(pool, threads)
    else:
        with _dask_executor(n, scheduler) as executor:
            yield capped(executor, threads)


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
