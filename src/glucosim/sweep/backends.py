"""Where chunks run: in this process, in local worker processes, or on a Dask cluster (SLURM via dask-jobqueue).

Every backend is used through the same ``concurrent.futures`` interface
(Dask's ``Client.get_executor`` provides it), with a bounded number of chunks
in flight so memory does not grow with the size of the sweep.
"""

from __future__ import annotations

import concurrent.futures as cf
import multiprocessing
import os
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from glucosim.errors import SweepError
from glucosim.sweep.worker import ChunkTask, run_chunk

IN_FLIGHT_PER_WORKER = 2
"""Chunks submitted ahead per worker: enough to keep workers busy, few enough to bound memory."""
POOL_RESTARTS_MAX = 3
"""A local worker that dies (killed, out of memory) breaks its pool; it is restarted this many times."""
DASK_WORKER_WAIT_S = 120.0
"""How long to wait for the first Dask worker (a SLURM job must be scheduled and start)."""


@dataclass(frozen=True)
class SlurmOptions:
    """Resources of the Dask workers started as SLURM jobs (dask-jobqueue's SLURMCluster)."""

    queue: str | None = None
    cores: int = 1
    memory: str = "2GB"
    walltime: str = "01:00:00"
    jobs: int = 1
    interface: str | None = None
    log_directory: str | None = None


PARENT_POLL_S = 1.0
"""How often a local worker checks that its parent is alive (where the kernel cannot tell it)."""


def _die_with_parent(parent_pid: int) -> None:
    """Worker initializer: end this worker when the sweep process dies, even by SIGKILL.

    Linux: the kernel sends SIGKILL on the parent's death (prctl PR_SET_PDEATHSIG). Everywhere: a daemon
    thread polls the parent pid as well, since the kernel ties that signal to the parent's thread.
    """
    import signal
    import threading
    import time

    if os.getppid() != parent_pid:  # the parent died before this worker started
        os._exit(1)
    try:
        import ctypes

        pr_set_pdeathsig = 1
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(pr_set_pdeathsig, signal.SIGKILL)
    except (OSError, AttributeError):  # not Linux / no glibc: the thread below does it
        pass

    def watch():
        while True:
            if os.getppid() != parent_pid:
                os._exit(1)
            time.sleep(PARENT_POLL_S)

    threading.Thread(target=watch, name="glucosim-parent-watch", daemon=True).start()


def _run_serial(tasks: Iterable[ChunkTask], function: Callable = run_chunk) -> Iterator:
    for task in tasks:
        yield function(task)


def _bounded(
    executor: cf.Executor, tasks: Iterable[ChunkTask], in_flight: Callable[[], int], function: Callable = run_chunk
) -> Iterator:
    """Submit ``tasks`` keeping at most ``in_flight()`` pending (asked again as workers join); yield results.

    ``tasks`` is consumed lazily: a chunk's task is made only when it is about to be submitted, so memory
    does not grow with the size of the sweep.
    """
    queue = iter(tasks)
    pending: dict[cf.Future, ChunkTask] = {}
    exhausted = False
    while not exhausted or pending:
        limit = in_flight()
        while not exhausted and len(pending) < limit:
            task = next(queue, None)
            if task is None:
                exhausted = True
                break
            pending[executor.submit(function, task)] = task
        if not pending:
            break
        done, _ = cf.wait(pending, return_when=cf.FIRST_COMPLETED)
        for future in done:
            pending.pop(future)
            yield future.result()


class LocalPool:
    """Local worker processes kept for every stage of a sweep (its screening, then its runs), so each worker
    starts once (a spawned worker imports glucosim and loads the compiled core: 1.5-1.7 s). Started on first use;
    a pool broken by a dead worker is replaced by ``restart``."""

    def __init__(self, workers: int):
        self.workers = workers
        self._executor: cf.ProcessPoolExecutor | None = None

    def executor(self) -> cf.ProcessPoolExecutor:
        if self._executor is None:
            # spawn, not fork: numba and threads in the parent make forked children unsafe
            self._executor = cf.ProcessPoolExecutor(
                max_workers=self.workers,
                mp_context=multiprocessing.get_context("spawn"),
                initializer=_die_with_parent,
                initargs=(os.getpid(),),
            )
        return self._executor

    def restart(self) -> None:
        """Drop a broken pool (its workers are gone); the next ``executor`` starts a new one."""
        if self._executor is not None:
            self._executor.shutdown(wait=True, cancel_futures=True)
            self._executor = None

    def close(self) -> None:
        if self._executor is not None:
            self._executor.shutdown(wait=True)
            self._executor = None

    def __enter__(self) -> LocalPool:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def _run_processes(
    tasks: Iterable[ChunkTask], workers: int, function: Callable = run_chunk, pool: LocalPool | None = None
) -> Iterator:
    import itertools
    from concurrent.futures.process import BrokenProcessPool

    if pool is None:  # a pool of this call's own
        with LocalPool(workers) as own:
            yield from _run_processes(tasks, workers, function, own)
        return

    later = iter(tasks)
    remaining: dict[int, ChunkTask] = {}  # handed to a pool and not finished: resubmitted after a restart

    def handed_out():
        yield from list(remaining.values())
        for task in later:
            remaining[task.chunk_index] = task
            yield task

    for attempt in range(POOL_RESTARTS_MAX + 1):
        try:
            executor = pool.executor()
            for outcome in _bounded(executor, handed_out(), lambda: workers * IN_FLIGHT_PER_WORKER, function):
                remaining.pop(outcome[0], None)
                yield outcome
            return
        except BrokenProcessPool:
            pool.restart()
            if attempt == POOL_RESTARTS_MAX:
                left = len(remaining) + sum(1 for _ in itertools.islice(later, 10**9))
                raise SweepError(
                    f"local worker processes died {POOL_RESTARTS_MAX + 1} times; {left} chunks left "
                    "(finished chunks are saved: run the same command again to resume)"
                ) from None


def _run_dask(client, tasks: Iterable[ChunkTask], function: Callable = run_chunk) -> Iterator:
    from distributed import KilledWorker

    try:
        client.wait_for_workers(1, timeout=DASK_WORKER_WAIT_S)
    except TimeoutError:
        raise SweepError(
            f"no Dask worker joined within {DASK_WORKER_WAIT_S:.0f} s (is the scheduler reachable, "
            "or are the SLURM jobs still queued? check squeue); finished chunks are kept"
        ) from None

    def in_flight() -> int:  # SLURM jobs join over minutes: keep every worker that has joined busy
        return max(1, sum(client.nthreads().values())) * IN_FLIGHT_PER_WORKER

    # pure=False: each chunk is computed, not deduplicated by argument hash; a worker lost mid-chunk
    # makes the scheduler run the chunk again elsewhere (the result is the same: runs are deterministic)
    executor = client.get_executor(pure=False)
    try:
        yield from _bounded(executor, tasks, in_flight, function)
    except KilledWorker as exc:
        raise SweepError(
            f"Dask gave up on a chunk after its workers died repeatedly ({exc}); finished chunks "
            "are kept: run the same command again to resume"
        ) from None


@contextmanager
def dask_client(scheduler: str | None = None, slurm: SlurmOptions | None = None):
    """A Dask client on an existing scheduler (``tcp://host:port``) or on a new SLURM-backed cluster."""
    try:
        from distributed import Client
    except ImportError:
        raise SweepError("the Dask backend needs the 'cluster' extra: pip install 'glucosim[cluster]'") from None
    if scheduler is not None:
        with Client(scheduler, timeout=DASK_WORKER_WAIT_S) as client:
            yield client
        return
    try:
        from dask_jobqueue import SLURMCluster
    except ImportError:
        raise SweepError("the SLURM backend needs the 'cluster' extra: pip install 'glucosim[cluster]'") from None
    import sys

    options = {
        "queue": slurm.queue,
        "cores": slurm.cores,
        "processes": slurm.cores,  # one single-threaded worker process per core: the model is not thread-parallel
        "memory": slurm.memory,
        "walltime": slurm.walltime,
        "python": sys.executable,
        "log_directory": slurm.log_directory,
    }
    if slurm.interface:
        options["interface"] = slurm.interface
    with SLURMCluster(**{k: v for k, v in options.items() if v is not None}) as cluster:
        cluster.scale(jobs=slurm.jobs)
        with Client(cluster) as client:
            yield client


def available_cores() -> int:
    """Cores this process may use (its CPU affinity, e.g. a SLURM allocation), not the whole node's."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def execute(
    tasks: Iterable, *, workers: int = 1, client=None, function: Callable = run_chunk, pool: LocalPool | None = None
) -> Iterator:
    """Run ``tasks``, yielding ``function(task)`` as each finishes (in completion order): by default ``run_chunk``,
    ``(chunk_index, rows, daily)``; any module-level function of a task with a ``chunk_index`` whose result starts
    with it (the screening's ``screen_chunk``). ``pool``: local worker processes to use (and keep) instead of a
    pool of this call's own."""
    if client is not None:
        return _run_dask(client, tasks, function)
    if workers <= 1:
        return _run_serial(tasks, function)
    return _run_processes(tasks, workers, function, pool)
