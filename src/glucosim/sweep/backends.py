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
"""How often a local worker checks that its parent process is the one it started with (the lifeline, below, is the
main watch; this catches a fork server that died)."""
START_METHOD = "forkserver"
"""How local workers start: forked from multiprocessing's fork server, which imports and warms glucosim once
(``glucosim.sweep.preload``), where the platform has one; "spawn" (a fresh interpreter per worker, each paying the
imports and numba's cache load, 1.5-2.5 s of CPU measured) elsewhere or if set here. Never "fork": numba and threads
in the sweep process make forked children unsafe."""
PRELOAD_MODULE = "glucosim.sweep.preload"
"""What the fork server imports before it forks any worker (its import is the warm-up)."""


def pool_context(start_method: str | None = None):
    """The multiprocessing context of local workers (``START_METHOD`` unless given; "spawn" where the platform has
    no fork server). The fork server is multiprocessing's one per process: started by the first pool that needs it
    (with this module's preload, ``start_fork_server``), kept for later pools of the process while nothing it
    captured has changed (a second sweep in a notebook starts its workers at once), restarted when something has
    (``server_fingerprint``), and ended when the process ends."""
    method = start_method or START_METHOD
    if method not in ("forkserver", "spawn"):
        raise ValueError(f"local workers start by 'forkserver' or 'spawn', not {method!r}")
    if method == "forkserver" and "forkserver" in multiprocessing.get_all_start_methods():
        context = multiprocessing.get_context("forkserver")
        context.set_forkserver_preload([PRELOAD_MODULE])
        return context
    return multiprocessing.get_context("spawn")


def server_fingerprint() -> tuple:
    """What a fork server captures when it starts and hands to every worker it forks: the glucosim package it
    imported (found on this process's ``sys.path``), the environment (numba's cache and threading settings, BLAS
    threads, GLUCOSIM_* variables...) and the model it compiled (the hash of the physiology, solver and parameter
    table sources, read from disk now). A server started under another fingerprint would give the workers another
    glucosim, an old environment or a model edited since (a notebook session that edits ``models/parameters.toml``
    between sweeps): it is restarted instead."""
    import sys

    import glucosim
    from glucosim.simulation.organ import _source_hash

    environment = tuple(sorted((k, v) for k, v in os.environ.items() if k not in _FINGERPRINT_IGNORES))
    return (glucosim.__file__, tuple(sys.path), environment, _source_hash())


_FINGERPRINT_IGNORES = frozenset({"GLUCOSIM_COMPILE_NOTICE_SHOWN"})
"""Variables that do not change what a worker computes (the compile notice's once-per-command mark)."""


_SERVER_FINGERPRINT: tuple | None = None
"""``server_fingerprint()`` when this process last started the fork server (None: it has not)."""


def start_fork_server(start_method: str | None = None) -> None:
    """Start the fork server now, if local workers fork from one, or restart it if what it captured has changed
    (``server_fingerprint``): it imports and warms up (~2-3 s of CPU) before the first worker forks.

    The server is a fresh interpreter whose ``sys.path`` is this process's (given as PYTHONPATH, with the current
    folder not prepended: PYTHONSAFEPATH), so it imports the glucosim this process runs, not one that a folder named
    ``glucosim`` in the working folder or another installation would shadow."""
    global _SERVER_FINGERPRINT
    if pool_context(start_method).get_start_method() != "forkserver":
        return
    import sys
    from multiprocessing import forkserver

    fingerprint = server_fingerprint()
    server = getattr(forkserver, "_forkserver", None)
    running = getattr(server, "_forkserver_pid", None) is not None
    if running and fingerprint != _SERVER_FINGERPRINT:
        stop = getattr(server, "_stop", None)  # private, but the only way to replace multiprocessing's one server
        if stop is not None:
            stop()
    saved = {name: os.environ.get(name) for name in ("PYTHONPATH", "PYTHONSAFEPATH")}
    os.environ["PYTHONPATH"] = os.pathsep.join(entry for entry in sys.path if entry)
    os.environ["PYTHONSAFEPATH"] = "1"
    try:
        forkserver.ensure_running()
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
    _SERVER_FINGERPRINT = fingerprint


def _die_with_parent(lifeline, package_file: str | None = None) -> None:
    """Worker initializer: end this worker when the sweep process dies, even by SIGKILL.

    ``package_file``: the sweep process's ``glucosim.__file__``; a worker that imported another glucosim ends.
    ``lifeline``: the read end of a pipe whose only write end the sweep process holds (``LocalPool``); the kernel
    closes it when that process dies, however it dies, and the read sees end-of-file. A worker forked from the fork
    server is not the sweep's child, so the parent's pid cannot tell; the pipe works for either start method. Also:
    on Linux, the kernel sends SIGKILL when the worker's parent (the sweep process, or the fork server) dies
    (prctl PR_SET_PDEATHSIG), and the watch ends the worker if it is handed to another parent.
    """
    import signal
    import sys
    import threading

    import glucosim

    if package_file is not None and glucosim.__file__ != package_file:
        # a worker that would compute with another glucosim than the sweep's (start_fork_server prevents it): say so
        # where the sweep's error output shows it, and end; the sweep reports its workers' deaths
        print(
            f"glucosim sweep worker: imported {glucosim.__file__}, but the sweep runs {package_file}; not running",
            file=sys.stderr,
        )
        os._exit(1)
    parent_pid = os.getppid()
    try:
        import ctypes

        pr_set_pdeathsig = 1
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(pr_set_pdeathsig, signal.SIGKILL)
    except (OSError, AttributeError):  # not Linux / no glibc: the thread below does it
        pass
    if os.getppid() != parent_pid:  # the parent died before the signal was set
        os._exit(1)

    def watch():
        while True:
            try:
                if lifeline.poll(PARENT_POLL_S):  # never written to: ready only at end-of-file
                    lifeline.recv_bytes()
            except (EOFError, OSError):
                os._exit(1)
            if os.getppid() != parent_pid:
                os._exit(1)

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
    """Local worker processes kept for every stage of a sweep (its screening, then its runs). Started on first use;
    a pool broken by a dead worker is replaced by ``restart``. Workers are forked from the fork server, which has
    imported glucosim and loaded the compiled core once (``pool_context``; a spawned worker started on its own: 1.5-2.5
    s of CPU each)."""

    def __init__(self, workers: int, start_method: str | None = None):
        self.workers = workers
        self.start_method = start_method
        self._executor: cf.ProcessPoolExecutor | None = None
        self._lifeline = None  # (read end handed to each worker, write end this process alone holds)

    def executor(self) -> cf.ProcessPoolExecutor:
        if self._executor is None:
            import glucosim

            context = pool_context(self.start_method)
            start_fork_server(self.start_method)  # (re)started here if what it captured has changed since
            if self._lifeline is None:
                self._lifeline = context.Pipe(duplex=False)
            self._executor = cf.ProcessPoolExecutor(
                max_workers=self.workers,
                mp_context=context,
                initializer=_die_with_parent,
                initargs=(self._lifeline[0], glucosim.__file__),
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
        if self._lifeline is not None:  # after the workers are gone: closing the write end would end them
            for end in self._lifeline:
                end.close()
            self._lifeline = None

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
