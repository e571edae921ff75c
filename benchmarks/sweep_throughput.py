"""Sweep throughput: virtual-patient-years per second on 1 and 2 local cores (and through Dask), with where a run's
time goes.

    python benchmarks/sweep_throughput.py [--patients 6] [--years 3] [--arms all|control] [--dask] [--no-breakdown]

Runs the same cohort sweep (the shipped prevention sweep's 'prediabetic'
cohort, both arms unless ``--arms control``: the lifestyle arm's weekly
walking makes its envelope period a week, so it costs more than the control
arm) in fresh directories: in this process, and on 2 local worker processes
(the setting of ``benchmarks/report.py --issue12``: chunks of 1 run) started
three ways: spawned (each imports glucosim and loads numba's cache itself, as
before 2026-12-03), forked from a fork server started for the sweep (the
default: it imports and warms up once, ``glucosim.sweep.preload``; what a
``glucosim sweep`` command pays), and forked from that server again (a second
sweep in one Python session); and on a 2-worker Dask LocalCluster with
``--dask``. It prints the rate, the CPU time of every process involved (this
one, the workers, the fork server), the scaling
efficiency (rate on n cores / (n x rate on 1 core)) and the time the shipped
sweep would take on 2 idle cores, from the CPU time of the sweep in this
process (the 2-core rate of a few runs carries each worker's start): it screens its patients first (the
sweep file's ``[screening]``: each patient's day 0 and one OGTT, timed here in
this process) and simulates both arms for the ~35 % it enrols (2421 of 7000,
docs/sweeps.md). The throughput sweeps here simulate every patient (their
copy of the sweep drops the screening). Each timing includes what a user
waits for: starting worker processes, importing and loading numba's cache in
each.

The breakdown (CPU seconds of one run, per arm, in this process after
warm-up) splits a run into its initial state (warm-ups), the envelope's
full-resolution days (the compiled integrator), the rest of envelope following
(daily rows, step control, relaxation rates), building the result, and the
sweep row; and it measures a worker's start on the same chunk: a spawned one
(imports, numba's start and cache loads on its first call) and a forked one
(the fork server's warm-up, once; the worker's CPU before and on its first
chunk). The load average
is printed with the table: on a shared machine, label the numbers as loaded.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from glucosim._toml import load_toml
from glucosim.sweep import run_sweep
from glucosim.sweep.design import design_samples
from glucosim.sweep.load import parse_sweep

REPO = Path(__file__).resolve().parent.parent
SWEEP = REPO / "scenarios" / "sweeps" / "prediabetes_lifestyle.toml"
CHUNK_RUNS = 1
"""Runs per chunk, as ``benchmarks/report.py --issue12`` runs it."""
SHIPPED_ARMS = 2
SHIPPED_ENROLLED_SHARE = 2421 / 7000
"""Share of the shipped sweep's patients its screening enrols (measured 2026-12-07, twenty-eighth session: 2421 of
7000, docs/sweeps.md; 1663 in the twenty-fifth; 1658 that morning; 1975 of 7000 on 2026-12-06; 1103 of 3500 on
2026-12-04 with the cohort refitted that morning; 122 of 3500 with the cohort of 2026-12-03 afternoon, 124 of 1000
with that morning's)."""
SCREENING_PATIENTS = 40
"""Patients whose screening is timed for the projection (CPU of this process, after warm-up)."""


def shipped_samples() -> int:
    return int(load_toml(SWEEP)["design"]["samples"])


def cohort_sweep(patients: int, years: float, all_arms: bool = True, screened: bool = False):
    """The shipped prevention sweep resized (both arms, or the control arm only), without its screening unless
    ``screened`` (so every patient is simulated)."""
    data = load_toml(SWEEP)
    data["design"]["samples"] = patients
    data["duration_years"] = years
    if not screened:
        data.pop("screening", None)
    if not all_arms:
        data["arms"] = data["arms"][:1]
    label = f"# benchmark {patients} x {years} x {len(data['arms'])} arms"
    return parse_sweep(data, source=str(SWEEP), text=f"{SWEEP.read_text()}\n{label}")


def shipped_years() -> float:
    return float(load_toml(SWEEP)["duration_years"])


def tree_cpu_s() -> float:
    """CPU seconds of this process, its reaped children (spawned workers, once a pool has shut down) and the fork
    server with the workers it has reaped (Linux: /proc), so far."""
    from multiprocessing import forkserver

    times = os.times()
    total = times.user + times.system + times.children_user + times.children_system
    server = forkserver._forkserver._forkserver_pid  # private, read only: multiprocessing has no public accessor
    if server is not None and os.path.exists(f"/proc/{server}/stat"):
        fields = open(f"/proc/{server}/stat").read().rsplit(")", 1)[1].split()
        total += sum(int(value) for value in fields[11:15]) / os.sysconf("SC_CLK_TCK")  # utime stime cutime cstime
    return total


def patient_years_per_s(loaded, start_method: str | None = None, **backend) -> tuple[float, float, float]:
    """(rate, seconds, CPU seconds of the process tree) of one complete sweep into a fresh directory; local workers
    started by ``start_method`` (default: ``backends.START_METHOD``)."""
    from glucosim.sweep import backends

    default = backends.START_METHOD
    backends.START_METHOD = start_method or default
    try:
        with tempfile.TemporaryDirectory() as out:
            started, cpu_started = time.perf_counter(), tree_cpu_s()
            outcome = run_sweep(
                loaded, out, chunk_runs=CHUNK_RUNS, progress=False, announce=lambda line: None, **backend
            )
            elapsed, cpu = time.perf_counter() - started, tree_cpu_s() - cpu_started
    finally:
        backends.START_METHOD = default
    return outcome.n_runs * loaded.n_years / elapsed, elapsed, cpu


def measure(
    patients: int, years: float, all_arms: bool = True, dask: bool = False
) -> tuple[dict[str, tuple[float, float, float]], float]:
    """(rate patient-years/s, seconds, CPU seconds of the process tree) in 1 process; on 2 local workers spawned
    (each importing and loading numba's cache itself, as before 2026-12-03), forked from a fork server started for
    this sweep (what a ``glucosim sweep`` command pays), and forked from the same server again (a second sweep in one
    Python session); optionally on a 2-worker Dask cluster. And the CPU seconds per patient-year of the in-process
    sweep (on a loaded machine, wall time says little)."""
    loaded = cohort_sweep(patients, years, all_arms)
    patient_years_per_s(cohort_sweep(1, 1, all_arms), workers=1)  # compile or load the kernels in this process first
    cpu_start = time.process_time()
    rates = {
        "1 core (in process)": patient_years_per_s(loaded, workers=1),
    }
    cpu_s_per_patient_year = (time.process_time() - cpu_start) / (
        len(design_samples(loaded)) * len(loaded.sweep.arms) * loaded.n_years
    )
    rates["2 cores (spawned workers)"] = patient_years_per_s(loaded, "spawn", workers=2)
    rates["2 cores (fork server: new)"] = patient_years_per_s(loaded, "forkserver", workers=2)
    rates["2 cores (fork server: running)"] = patient_years_per_s(loaded, "forkserver", workers=2)
    if dask:
        from distributed import Client, LocalCluster

        with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
            with Client(cluster) as client:
                rates["2 cores (Dask LocalCluster)"] = patient_years_per_s(loaded, client=client)
    return rates, cpu_s_per_patient_year


def screening_cpu_s(patients: int = SCREENING_PATIENTS) -> tuple[float, float]:
    """(CPU seconds to screen one patient, share enrolled) over the shipped sweep's first ``patients``, in this
    process after warm-up (``glucosim.sweep.screening.screen_patient``: the patient's day 0 and one OGTT)."""
    from glucosim.sweep.runner import design_table
    from glucosim.sweep.screening import screen_patient

    loaded = cohort_sweep(patients, shipped_years(), screened=True)
    reference = design_table(loaded).query("arm_index == 0")
    names = list(loaded.variable_names)
    rows = [(int(row["sample"]), {name: float(row[name]) for name in names}) for _, row in reference.iterrows()]
    screen_patient(loaded, *rows[0])  # warm
    start = time.process_time()
    enrolled = sum(screen_patient(loaded, sample, values)["enrolled"] for sample, values in rows)
    return (time.process_time() - start) / len(rows), enrolled / len(rows)


def _timed(function):
    """Wrap ``function`` to add its CPU time to ``function.cpu_s`` (outermost calls only)."""
    state = {"depth": 0}

    def wrapper(*args, **kwargs):
        state["depth"] += 1
        start = time.process_time()
        try:
            return function(*args, **kwargs)
        finally:
            state["depth"] -= 1
            if state["depth"] == 0:
                wrapper.cpu_s += time.process_time() - start

    wrapper.cpu_s = 0.0
    return wrapper


def breakdown(patients: int, years: float) -> dict[str, dict[str, float]]:
    """CPU seconds per run and arm: initial state, integrated days, the rest of envelope following, result, row."""
    import glucosim.simulation.run as run_module
    from glucosim.solver import segments
    from glucosim.sweep.runner import _tasks, design_table
    from glucosim.sweep.worker import run_chunk

    loaded = cohort_sweep(patients, years)
    design = design_table(loaded)
    tasks = list(_tasks(loaded, design, 1, list(range(len(design)))))
    run_chunk(tasks[0])  # warm
    timers = {
        "initial_state": (run_module, "initial_state"),
        "follow_envelope": (run_module, "follow_envelope"),
        "build_result": (run_module, "build_result"),
        "simulate": (run_module, "simulate"),
    }
    originals = {name: getattr(module, attr) for name, (module, attr) in timers.items()}
    integrate = segments.integrate_schedule
    wrapped = {name: _timed(function) for name, function in originals.items()}
    wrapped_integrate = _timed(integrate)
    for name, (module, attr) in timers.items():
        setattr(module, attr, wrapped[name])
    run_module.integrate_schedule = wrapped_integrate
    # initial_state's warm-ups call their own reference to integrate_schedule: they count under "initial state"
    result: dict[str, dict[str, float]] = {}
    try:
        for arm_index, arm in enumerate(loaded.sweep.arms):
            for timer in (*wrapped.values(), wrapped_integrate):
                timer.cpu_s = 0.0
            mine = [task for task in tasks if task.runs[0].arm_index == arm_index]
            start = time.process_time()
            for task in mine:
                run_chunk(task)
            total = time.process_time() - start
            n = len(mine)
            envelope = wrapped["follow_envelope"].cpu_s
            inside = wrapped["initial_state"].cpu_s + envelope + wrapped["build_result"].cpu_s
            result[arm.name] = {
                "initial state": wrapped["initial_state"].cpu_s / n,
                "integrated days": wrapped_integrate.cpu_s / n,
                "rest of envelope following": (envelope - wrapped_integrate.cpu_s) / n,
                "building the result": wrapped["build_result"].cpu_s / n,
                "rest of simulate (program, plans)": (wrapped["simulate"].cpu_s - inside) / n,
                "sweep row (scenario edit, parse, outputs)": (total - wrapped["simulate"].cpu_s) / n,
                "total": total / n,
            }
    finally:
        for name, (module, attr) in timers.items():
            setattr(module, attr, originals[name])
        run_module.integrate_schedule = integrate
    return result


WORKER_START = """
import pickle, sys, time
start = time.process_time()
from glucosim.sweep.worker import run_chunk
imported = time.process_time() - start
task = pickle.loads(sys.stdin.buffer.read())
first = time.process_time()
run_chunk(task)
first = time.process_time() - first
again = time.process_time()
run_chunk(task)
again = time.process_time() - again
print(imported, first - again)
"""


def _start_task():
    from glucosim.sweep.runner import _tasks, design_table

    loaded = cohort_sweep(1, 1.0, all_arms=False)
    return next(iter(_tasks(loaded, design_table(loaded), 1, [0])))


def _numbers_from_fresh_interpreter(code: str) -> list[float]:
    """Run ``code`` with ``python -c`` on the pickled start task (its standard input); the numbers it prints last."""
    import pickle

    env = dict(os.environ, PYTHONPATH=str(REPO / "src") + os.pathsep + os.environ.get("PYTHONPATH", ""))
    out = subprocess.run(
        [sys.executable, "-c", code], input=pickle.dumps(_start_task()), capture_output=True, env=env, check=True
    )
    return [float(value) for value in out.stdout.decode().strip().splitlines()[-1].split()]


def spawned_worker_start_cpu_s() -> tuple[float, float]:
    """(import, first-call) CPU seconds of a fresh interpreter as a spawned worker: importing the worker module, and
    its first chunk's CPU less the same chunk's again (the rest of the imports, numba's start and cache loads)."""
    imported, first_call = _numbers_from_fresh_interpreter(WORKER_START)
    return imported, first_call


FORKED_START = """
import os, pickle, sys, time
from multiprocessing import forkserver
from glucosim.sweep.backends import LocalPool
from glucosim.sweep.worker import run_chunk
task = pickle.loads(sys.stdin.buffer.read())
with LocalPool(1, start_method="forkserver") as pool:
    executor = pool.executor()
    clock = [executor.submit(time.process_time).result()]
    for _ in range(2):
        executor.submit(run_chunk, task).result()
        clock.append(executor.submit(time.process_time).result())
    server = forkserver._forkserver._forkserver_pid
    fields = open(f"/proc/{server}/stat").read().rsplit(")", 1)[1].split()
    warm_up = sum(int(value) for value in fields[11:13]) / os.sysconf("SC_CLK_TCK")
print(warm_up, clock[0], (clock[1] - clock[0]) - (clock[2] - clock[1]))
"""


def forked_worker_start_cpu_s() -> tuple[float, float, float]:
    """(the fork server's warm-up, a forked worker's CPU before its first task, the extra CPU of its first chunk) in
    seconds, in a fresh interpreter started with ``-c`` as a ``glucosim sweep`` command is (a worker imports the
    parent's main script first: this benchmark's would cost it ~0.6 s, the command line's 0.02 s)."""
    warm_up, before, first_call = _numbers_from_fresh_interpreter(FORKED_START)
    return warm_up, before, first_call


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--patients", type=int, default=6)
    parser.add_argument("--years", type=float, default=shipped_years())
    parser.add_argument("--arms", choices=("all", "control"), default="all")
    parser.add_argument("--dask", action="store_true", help="also time a 2-worker Dask LocalCluster")
    parser.add_argument("--no-breakdown", action="store_true", help="skip the per-run CPU breakdown")
    args = parser.parse_args()
    rates, cpu_s_per_patient_year = measure(args.patients, args.years, args.arms == "all", args.dask)
    single = rates["1 core (in process)"][0]
    arms = "both arms" if args.arms == "all" else "control arm"
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"sweep of {args.patients} patients x {arms} x {args.years:g} years, chunks of {CHUNK_RUNS} run")
    print(f"(load average {load:.1f} on {os.cpu_count()} cores when it finished)")
    print(f"{'backend':32s} {'patient-years/s':>16s} {'seconds':>8s} {'CPU s (all processes)':>22s} {'scaling':>8s}")
    for name, (rate, seconds, cpu) in rates.items():
        cores = 1 if name.startswith("1 core") else 2
        print(f"{name:32s} {rate:16.2f} {seconds:8.1f} {cpu:22.1f} {rate / (cores * single):8.0%}")
    years, samples = shipped_years(), shipped_samples()
    screen_s, share = screening_cpu_s()
    enrolled = round(samples * SHIPPED_ENROLLED_SHARE)
    spawned_import_s, spawned_first_s = spawned_worker_start_cpu_s()
    warm_up_s, forked_before_s, forked_first_s = forked_worker_start_cpu_s()
    start_s = warm_up_s + forked_before_s + forked_first_s
    # two idle cores, each a worker: the screening's and the runs' CPU time in this process (the small sweeps' 2-core
    # rate carries the workers' start over a few runs), plus the fork server's warm-up and one forked worker's start
    screening = samples * screen_s / 2
    runs = enrolled * SHIPPED_ARMS * years * cpu_s_per_patient_year / 2
    print(
        f"shipped prevention sweep ({samples} patients screened at {screen_s:.3f} s of CPU each, {share:.0%} of the"
        f" first {SCREENING_PATIENTS} enrolled here; {enrolled} enrolled x {SHIPPED_ARMS} arms x {years:g} y"
        f" simulated) on 2 idle cores, from the CPU time in this process: {(screening + runs + start_s) / 60:.1f} min"
        f" (screening {screening / 60:.1f}, runs {runs / 60:.1f}, workers' start {start_s:.1f} s, once for both"
        " stages)"
    )
    print(
        "worker start, CPU s: spawned worker (each): imports"
        f" {spawned_import_s:.2f}, numba and cache loads on its first run {spawned_first_s:.2f};"
        f" fork server (once per sweep process): warm-up {warm_up_s:.2f}; forked worker (each): before its first"
        f" chunk {forked_before_s:.2f}, extra on its first chunk {forked_first_s:.2f}"
    )
    if args.no_breakdown:
        return
    print(f"\nCPU seconds of one {args.years:g}-year run, in this process after warm-up ({args.patients} patients):")
    table = breakdown(args.patients, args.years)
    names = list(next(iter(table.values())))
    print(f"  {'':44s}" + "".join(f"{arm:>11s}" for arm in table))
    for name in names:
        print(f"  {name:44s}" + "".join(f"{table[arm][name]:11.3f}" for arm in table))
    print(f"  {'spawned worker start (each)':44s}{spawned_import_s + spawned_first_s:11.3f}")
    print(f"  {'fork server warm-up (once) + forked worker start':44s}{start_s:11.3f}")


if __name__ == "__main__":
    main()
