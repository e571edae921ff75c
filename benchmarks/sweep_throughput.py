"""Sweep throughput: virtual-patient-years per second on 1 and 2 local cores (and through Dask), with where a run's
time goes.

    python benchmarks/sweep_throughput.py [--patients 6] [--years 3] [--arms all|control] [--dask] [--no-breakdown]

Runs the same cohort sweep (the shipped prevention sweep's 'prediabetic'
cohort, both arms unless ``--arms control``: the lifestyle arm's weekly
walking makes its envelope period a week, so it costs more than the control
arm) in fresh directories: in this process, and on 2 local worker processes
(the setting of ``benchmarks/report.py --issue12``: chunks of 1 run), and on a
2-worker Dask LocalCluster with ``--dask``. It prints the rate, the scaling
efficiency (rate on n cores / (n x rate on 1 core)) and the time the shipped
sweep would take on 2 idle cores, from the CPU time of the sweep in this
process (the 2-core rate of a few runs carries each worker's start): it screens its 1000 patients first (the
sweep file's ``[screening]``: each patient's day 0 and one OGTT, timed here in
this process) and simulates both arms for the ~12 % it enrols (124 of 1000,
docs/sweeps.md). The throughput sweeps here simulate every patient (their
copy of the sweep drops the screening). Each timing includes what a user
waits for: starting worker processes, importing and loading numba's cache in
each.

The breakdown (CPU seconds of one run, per arm, in this process after
warm-up) splits a run into its initial state (warm-ups), the envelope's
full-resolution days (the compiled integrator), the rest of envelope following
(daily rows, step control, relaxation rates), building the result, and the
sweep row; and it measures one fresh worker process's start (imports, numba
cache, kernels compiled on first call) on the same chunk. The load average
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
SHIPPED_ENROLLED_SHARE = 124 / 1000
"""Share of the shipped sweep's patients its screening enrols (measured 2026-12-03: 124 of 1000, docs/sweeps.md)."""
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


def patient_years_per_s(loaded, **backend) -> tuple[float, float]:
    """(rate, seconds) of one complete sweep into a fresh directory."""
    with tempfile.TemporaryDirectory() as out:
        started = time.perf_counter()
        outcome = run_sweep(loaded, out, chunk_runs=CHUNK_RUNS, progress=False, **backend)
        elapsed = time.perf_counter() - started
    return outcome.n_runs * loaded.n_years / elapsed, elapsed


def measure(
    patients: int, years: float, all_arms: bool = True, dask: bool = False
) -> tuple[dict[str, tuple[float, float]], float]:
    """(rate patient-years/s, seconds) for 1 process, 2 local processes and optionally a 2-worker Dask cluster; and
    the CPU seconds per patient-year of the in-process sweep (on a loaded machine, wall time says little)."""
    loaded = cohort_sweep(patients, years, all_arms)
    patient_years_per_s(cohort_sweep(1, 1, all_arms), workers=1)  # compile or load the kernels in this process first
    cpu_start = time.process_time()
    rates = {
        "1 core (in process)": patient_years_per_s(loaded, workers=1),
    }
    cpu_s_per_patient_year = (time.process_time() - cpu_start) / (
        len(design_samples(loaded)) * len(loaded.sweep.arms) * loaded.n_years
    )
    rates["2 cores (processes)"] = patient_years_per_s(loaded, workers=2)
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
task = pickle.loads(sys.stdin.buffer.read())
run_chunk(task)
first = time.process_time() - start
again = time.process_time()
run_chunk(task)
print(first - (time.process_time() - again))
"""


def worker_start_cpu_s() -> float:
    """CPU seconds a fresh worker process spends before its first run's own work: imports, numba's cache, kernels
    compiled on first call (its first chunk's CPU less the same chunk's again)."""
    import pickle

    from glucosim.sweep.runner import _tasks, design_table

    loaded = cohort_sweep(1, 1.0, all_arms=False)
    task = next(iter(_tasks(loaded, design_table(loaded), 1, [0])))
    env = dict(os.environ, PYTHONPATH=str(REPO / "src") + os.pathsep + os.environ.get("PYTHONPATH", ""))
    out = subprocess.run(
        [sys.executable, "-c", WORKER_START], input=pickle.dumps(task), capture_output=True, env=env, check=True
    )
    return float(out.stdout.decode().strip().splitlines()[-1])


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
    print(f"{'backend':32s} {'patient-years/s':>16s} {'seconds':>8s} {'scaling efficiency':>19s}")
    for name, (rate, seconds) in rates.items():
        cores = 1 if name.startswith("1 core") else 2
        print(f"{name:32s} {rate:16.2f} {seconds:8.1f} {rate / (cores * single):18.0%}")
    years, samples = shipped_years(), shipped_samples()
    screen_s, share = screening_cpu_s()
    enrolled = round(samples * SHIPPED_ENROLLED_SHARE)
    start_s = worker_start_cpu_s()
    # two idle cores, each a worker: the screening's and the runs' CPU time in this process (the small sweeps' 2-core
    # rate carries each worker's start over a few runs), plus one worker start (both start in parallel, once)
    screening = samples * screen_s / 2
    runs = enrolled * SHIPPED_ARMS * years * cpu_s_per_patient_year / 2
    print(
        f"shipped prevention sweep ({samples} patients screened at {screen_s:.3f} s of CPU each, {share:.0%} of the"
        f" first {SCREENING_PATIENTS} enrolled here; {enrolled} enrolled x {SHIPPED_ARMS} arms x {years:g} y"
        f" simulated) on 2 idle cores, from the CPU time in this process: {(screening + runs + start_s) / 60:.1f} min"
        f" (screening"
        f" {screening / 60:.1f}, runs {runs / 60:.1f}, worker start {start_s:.1f} s, once per worker for both stages)"
    )
    if args.no_breakdown:
        return
    print(f"\nCPU seconds of one {args.years:g}-year run, in this process after warm-up ({args.patients} patients):")
    table = breakdown(args.patients, args.years)
    names = list(next(iter(table.values())))
    print(f"  {'':44s}" + "".join(f"{arm:>11s}" for arm in table))
    for name in names:
        print(f"  {name:44s}" + "".join(f"{table[arm][name]:11.3f}" for arm in table))
    print(f"  {'fresh worker process start (once per worker)':44s}{start_s:11.3f}")


if __name__ == "__main__":
    main()
