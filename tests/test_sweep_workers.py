"""Local sweep workers start from a warmed fork server (``glucosim.sweep.backends``, ``glucosim.sweep.preload``).

Issue 12: each spawned worker paid its own imports and numba cache load (~2.5 s of CPU); the fork server pays them
once and its forks start with the compiled core loaded. These tests check the structure that makes that true and
safe (no timings: see benchmarks/sweep_throughput.py for the cost).
"""

from __future__ import annotations

import multiprocessing
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from glucosim.sweep.backends import LocalPool, _die_with_parent, execute, pool_context

pytestmark = pytest.mark.skipif(
    "forkserver" not in multiprocessing.get_all_start_methods() or not Path("/proc/self/status").exists(),
    reason="the fork server and /proc are POSIX/Linux",
)


def _threads_of(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("Threads:"):
            return int(line.split()[1])
    raise AssertionError(f"no thread count for process {pid}")


@dataclass(frozen=True)
class _Task:
    chunk_index: int


def _what_a_worker_starts_with(task: _Task):
    """Runs in a worker before anything else of glucosim's has run there: what did it inherit?"""
    from glucosim._threads import openblas_threads

    already = {name for name in ("glucosim.sweep.worker", "glucosim.simulation.run", "pandas") if name in sys.modules}
    core_loaded = False
    if "glucosim.simulation.organ" in sys.modules:
        organ = sys.modules["glucosim.simulation.organ"]
        core_loaded = bool(organ.organ_integrator.cache_info().currsize) and bool(organ.organ_integrator().overloads)
    return task.chunk_index, {
        "pid": os.getpid(),
        "parent": os.getppid(),
        "parent_threads": _threads_of(os.getppid()),
        "imported": already,
        "core_loaded": core_loaded,
        "blas_threads": openblas_threads(),
    }


@pytest.mark.slow  # starts a fork server, which warms up (a few seconds; a minute at load 4)
def test_workers_are_forked_from_a_warmed_single_threaded_server():
    with LocalPool(2) as pool:
        reports = dict(execute(map(_Task, range(4)), workers=2, function=_what_a_worker_starts_with, pool=pool))
    assert sorted(reports) == [0, 1, 2, 3]
    for report in reports.values():
        assert report["parent"] != os.getpid()  # the fork server's child, not this process's
        assert report["parent_threads"] == 1  # the server forks with no thread but its main one
        assert report["imported"] == {"glucosim.sweep.worker", "glucosim.simulation.run", "pandas"}
        assert report["core_loaded"]  # the compiled integrator was loaded before the worker existed
        assert all(threads == 1 for threads in report["blas_threads"])


def test_a_spawned_pool_still_works_and_starts_cold():
    with LocalPool(2, start_method="spawn") as pool:
        reports = dict(execute(map(_Task, range(2)), workers=2, function=_what_a_worker_starts_with, pool=pool))
    assert all(report["parent"] == os.getpid() and not report["core_loaded"] for report in reports.values())


def test_an_unknown_start_method_is_refused():
    with pytest.raises(ValueError, match="'forkserver' or 'spawn', not 'fork'"):
        pool_context("fork")


def _hold(lifeline) -> None:
    _die_with_parent(lifeline)
    time.sleep(60.0)


def test_a_worker_ends_when_its_lifeline_closes_though_it_is_not_our_child():
    context = pool_context()
    reader, writer = context.Pipe(duplex=False)
    worker = context.Process(target=_hold, args=(reader,))
    worker.start()
    try:
        time.sleep(0.5)
        assert worker.is_alive()
        writer.close()  # as the kernel does when the sweep process dies, however it dies
        worker.join(timeout=20.0)
        assert worker.exitcode == 1
    finally:
        if worker.is_alive():
            worker.kill()
            worker.join()


def _what_a_worker_sees(task: _Task):
    import glucosim

    return task.chunk_index, {
        "parent": os.getppid(),
        "glucosim": glucosim.__file__,
        "marker": os.environ.get("GLUCOSIM_TEST_SERVER_MARKER"),
    }


@pytest.mark.slow  # starts the fork server twice
def test_the_server_is_restarted_when_what_it_captured_changes(monkeypatch, tmp_path):
    # a server started before an environment change (or a model edit) would hand its workers the old one: a later
    # pool restarts it. And the server imports the sweep's glucosim, not one a folder named glucosim in the working
    # folder would shadow (the server is a fresh interpreter, which puts its working folder first on sys.path)
    import glucosim

    shadow = tmp_path / "glucosim" / "sweep"  # enough of a package for the server's preload to import it
    shadow.mkdir(parents=True)
    for module in (shadow.parent / "__init__.py", shadow / "__init__.py", shadow / "preload.py"):
        module.write_text("")
    monkeypatch.chdir(tmp_path)
    reports = []
    for marker in ("first", "second"):
        monkeypatch.setenv("GLUCOSIM_TEST_SERVER_MARKER", marker)
        with LocalPool(2, start_method="forkserver") as pool:
            reports.append(dict(execute(map(_Task, range(2)), workers=2, function=_what_a_worker_sees, pool=pool)))
    first, second = ({report["parent"] for report in batch.values()} for batch in reports)
    assert len(first) == len(second) == 1 and first != second  # a new server for the changed environment
    for marker, batch in zip(("first", "second"), reports):
        assert all(report["marker"] == marker for report in batch.values())
        assert all(report["glucosim"] == glucosim.__file__ for report in batch.values())


def _refuse(lifeline) -> None:
    _die_with_parent(lifeline, "/elsewhere/glucosim/__init__.py")
    time.sleep(60.0)


def test_a_worker_with_another_glucosim_than_the_sweeps_refuses(capfd):
    context = pool_context("spawn")
    reader, writer = context.Pipe(duplex=False)
    worker = context.Process(target=_refuse, args=(reader,))
    worker.start()
    worker.join(timeout=60.0)
    writer.close()
    assert worker.exitcode == 1
    assert "the sweep runs /elsewhere/glucosim/__init__.py; not running" in capfd.readouterr().err
