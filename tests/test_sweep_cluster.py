"""Sweeps on real clusters: a Dask LocalCluster losing a worker mid-sweep, and a real single-node SLURM.

No mock schedulers. SLURM is started by ``../shared/tools/slurm/start-slurm.sh``
(installs Debian's slurm on first use; needs root). Where those scripts or
root are missing the SLURM tests skip, unless GLUCOSIM_REQUIRE_SLURM=1 (CI
sets it), which turns the skip into a failure.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pandas.testing as pdt
import pytest

from glucosim.sweep import SlurmOptions, load_results, run_sweep
from glucosim.sweep.store import CHUNK_DIR
from tests._sweep_helpers import comparable, write_sweep

REPO = Path(__file__).resolve().parent.parent
SLURM_TOOL_DIRS = [
    os.environ.get("GLUCOSIM_SLURM_TOOLS", ""),
    REPO.parent / "shared" / "tools" / "slurm",
    "/work/shared/tools/slurm",
]
CLUSTER_TIMEOUT_S = 900
WORKER_KILL_WAIT_S = 300.0


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    """The test grid and its serial results."""
    root = tmp_path_factory.mktemp("cluster")
    path = write_sweep(root / "input")
    run_sweep(path, root / "serial", workers=1, progress=False)
    return path, root, comparable(load_results(root / "serial"))


def _chunks_done(directory: Path) -> int:
    chunks = directory / CHUNK_DIR
    return len(list(chunks.glob("chunk-*.parquet"))) if chunks.is_dir() else 0


@pytest.mark.slow
@pytest.mark.timeout(CLUSTER_TIMEOUT_S)
def test_dask_local_cluster_loses_a_worker_and_still_completes(reference):
    distributed = pytest.importorskip("distributed")
    path, root, expected = reference
    out = root / "dask_killed"
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        with distributed.Client(cluster) as client:
            outcome = {}
            runner = threading.Thread(
                target=lambda: outcome.update(result=run_sweep(path, out, client=client, chunk_runs=1, progress=False))
            )
            runner.start()
            deadline = time.monotonic() + WORKER_KILL_WAIT_S
            while _chunks_done(out) < 1 and time.monotonic() < deadline:
                time.sleep(0.05)
            victim = next(iter(client.run(os.getpid).values()))
            os.kill(victim, signal.SIGKILL)  # the nanny restarts it; its chunk is rescheduled
            done_at_kill, running_at_kill = _chunks_done(out), runner.is_alive()
            runner.join(CLUSTER_TIMEOUT_S)
            assert not runner.is_alive()
            assert victim not in client.run(os.getpid).values(), "the killed worker process should be gone"
    n_chunks = len(expected)  # chunk_runs=1: one chunk per run
    # the loss happened mid-sweep: some chunks were done, not all, and the sweep was still running
    assert running_at_kill and 1 <= done_at_kill < n_chunks, (done_at_kill, n_chunks, running_at_kill)
    assert _chunks_done(out) == n_chunks
    assert outcome["result"].complete and outcome["result"].n_failed == 0
    pdt.assert_frame_equal(expected, comparable(load_results(out)))


def _slurm_tools() -> Path | None:
    for candidate in SLURM_TOOL_DIRS:
        if candidate and (Path(candidate) / "start-slurm.sh").is_file():
            return Path(candidate)
    return None


@pytest.fixture(scope="module")
def slurm():
    """A running single-node SLURM for this module's tests (stopped afterwards if we started it)."""
    required = os.environ.get("GLUCOSIM_REQUIRE_SLURM") == "1"
    tools = _slurm_tools()
    problem = None
    if tools is None:
        problem = f"no start-slurm.sh in {SLURM_TOOL_DIRS}"
    elif os.geteuid() != 0:
        problem = "starting SLURM needs root"
    if problem:
        if required:
            pytest.fail(f"GLUCOSIM_REQUIRE_SLURM=1 but {problem}")
        pytest.skip(problem)
    subprocess.run([str(tools / "start-slurm.sh")], check=True, timeout=600)
    yield
    subprocess.run([str(tools / "stop-slurm.sh")], check=False, timeout=120)


@pytest.mark.slow
@pytest.mark.timeout(CLUSTER_TIMEOUT_S)
def test_sweep_on_slurm_through_dask_jobqueue(reference, slurm):
    pytest.importorskip("dask_jobqueue")
    path, root, expected = reference
    out = root / "slurm_dask"
    options = SlurmOptions(
        cores=1, memory="1GB", walltime="00:15:00", jobs=2, interface="lo", log_directory=str(root / "slurm-logs")
    )
    outcome = run_sweep(path, out, slurm=options, chunk_runs=2, progress=False)
    assert outcome.complete
    pdt.assert_frame_equal(expected, comparable(load_results(out)))


JOB_FINISHED_STATES = {
    "BOOT_FAIL",
    "CANCELLED",
    "COMPLETED",
    "DEADLINE",
    "FAILED",
    "NODE_FAIL",
    "OUT_OF_MEMORY",
    "PREEMPTED",
    "TIMEOUT",
}
JOB_POLL_S = 0.5


def _wait_for_job(job_id: str, timeout_s: float) -> list[dict[str, str]]:
    """``scontrol show job`` fields of every task of batch job ``job_id``, once all have finished.

    What ``sbatch --wait`` does, polled every JOB_POLL_S instead: sbatch (slurm 22.05) looks after 2, 10 and 42 s
    (sleeps of 2, 8, then 32 s under MinJobAge=60), so it returned 42 s after submission however soon the ~10-s
    array had finished. The records stay MinJobAge (60 s) after the job ends: far longer than a poll."""
    deadline = time.monotonic() + timeout_s
    while True:
        shown = subprocess.run(["scontrol", "--oneliner", "show", "job", job_id], capture_output=True, text=True)
        tasks = [
            dict(field.split("=", 1) for field in line.split() if "=" in field)
            for line in shown.stdout.splitlines()
            if line.strip()
        ]
        if shown.returncode == 0 and tasks and all(task.get("JobState") in JOB_FINISHED_STATES for task in tasks):
            return tasks
        assert time.monotonic() < deadline, f"job {job_id} unfinished after {timeout_s} s: {shown.stdout}{shown.stderr}"
        time.sleep(JOB_POLL_S)


@pytest.mark.slow
@pytest.mark.timeout(CLUSTER_TIMEOUT_S)
def test_sweep_as_a_plain_slurm_job_array(reference, slurm, tmp_path):
    path, root, expected = reference
    out = tmp_path / "array"
    glucosim = [sys.executable, "-m", "glucosim.cli"]
    script = tmp_path / "array.sh"
    script.write_text(
        "#!/bin/bash\n#SBATCH --array=0-2\n#SBATCH --time=00:15:00\n"
        f"#SBATCH --output={tmp_path}/array-%a.log\n"
        f"{' '.join(glucosim)} sweep {path} --out {out} --chunk-runs 1 --no-progress "
        "--task-index $SLURM_ARRAY_TASK_ID --task-count $SLURM_ARRAY_TASK_COUNT\n"
    )
    submitted = subprocess.run([shutil.which("sbatch"), "--parsable", str(script)], capture_output=True, text=True)
    assert submitted.returncode == 0, submitted.stderr
    tasks = _wait_for_job(submitted.stdout.strip().split(";")[0], CLUSTER_TIMEOUT_S)
    logs = "\n".join(p.read_text() for p in sorted(tmp_path.glob("array-*.log")))
    # what `sbatch --wait` returning 0 meant (every task exited with status 0), and no task cancelled or timed out
    assert len(tasks) == 3 and all(t["JobState"] == "COMPLETED" and t["ExitCode"] == "0:0" for t in tasks), (
        f"{tasks}\n{logs}"
    )
    assert _chunks_done(out) == 8
    assert (out / "results.parquet").is_file(), "the last array task to finish writes results.parquet"
    pdt.assert_frame_equal(expected, comparable(load_results(out)))
