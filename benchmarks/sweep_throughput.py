"""Sweep throughput: virtual-patient-years per second on 1 and 2 local cores and through Dask.

    python benchmarks/sweep_throughput.py [--patients 16] [--years 2] [--arms all|control] [--no-dask]

Runs the same cohort sweep (the shipped prevention sweep's 'prediabetic'
cohort, both arms unless ``--arms control``: the lifestyle arm's weekly
exercise makes its envelope period a week, so it costs more than the control
arm) three ways, each into a fresh directory, and prints the rate, the
scaling efficiency (rate on n cores / (n x rate on 1 core)) and the time the
shipped sweep (400 patients x 2 arms x 10 years) would take at the 2-core
rate. Each timing includes what a user waits for: starting worker processes
and loading numba's cache in each. The load average is printed with the
table: on a shared machine, label the numbers as loaded.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

from glucosim._toml import load_toml
from glucosim.sweep import run_sweep
from glucosim.sweep.load import parse_sweep

REPO = Path(__file__).resolve().parent.parent
SWEEP = REPO / "scenarios" / "sweeps" / "prediabetes_lifestyle.toml"
CHUNK_RUNS = 2
SHIPPED_PATIENT_YEARS = 400 * 2 * 10
"""The shipped prevention sweep: 400 patients, 2 arms, 10 years."""


def cohort_sweep(patients: int, years: float, all_arms: bool = True):
    """The shipped prevention sweep resized (both arms, or the control arm only)."""
    data = load_toml(SWEEP)
    data["design"]["samples"] = patients
    data["duration_years"] = years
    if not all_arms:
        data["arms"] = data["arms"][:1]
    label = f"# benchmark {patients} x {years} x {len(data['arms'])} arms"
    return parse_sweep(data, source=str(SWEEP), text=f"{SWEEP.read_text()}\n{label}")


def patient_years_per_s(loaded, **backend) -> float:
    """Rate of one complete sweep into a fresh directory."""
    with tempfile.TemporaryDirectory() as out:
        started = time.perf_counter()
        outcome = run_sweep(loaded, out, chunk_runs=CHUNK_RUNS, progress=False, **backend)
        elapsed = time.perf_counter() - started
    return outcome.n_runs * loaded.n_years / elapsed


def measure(patients: int, years: float, all_arms: bool = True, dask: bool = True) -> dict[str, float]:
    """Rates (patient-years/s) for 1 process, 2 local processes and a 2-worker Dask LocalCluster."""
    loaded = cohort_sweep(patients, years, all_arms)
    run_sweep_warm = cohort_sweep(1, 1, all_arms)  # compile or load the kernels in this process first
    patient_years_per_s(run_sweep_warm, workers=1)
    rates = {
        "1 core (in process)": patient_years_per_s(loaded, workers=1),
        "2 cores (processes)": patient_years_per_s(loaded, workers=2),
    }
    if dask:
        from distributed import Client, LocalCluster

        with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
            with Client(cluster) as client:
                rates["2 cores (Dask LocalCluster)"] = patient_years_per_s(loaded, client=client)
    return rates


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--patients", type=int, default=16)
    parser.add_argument("--years", type=float, default=2.0)
    parser.add_argument("--arms", choices=("all", "control"), default="all")
    parser.add_argument("--no-dask", action="store_true", help="skip the Dask LocalCluster timing")
    args = parser.parse_args()
    rates = measure(args.patients, args.years, args.arms == "all", not args.no_dask)
    single = rates["1 core (in process)"]
    arms = "both arms" if args.arms == "all" else "control arm"
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"sweep of {args.patients} patients x {arms} x {args.years:g} years, chunks of {CHUNK_RUNS} runs")
    print(f"(load average {load:.1f} on {os.cpu_count()} cores when it finished)")
    print(f"{'backend':32s} {'patient-years/s':>16s} {'scaling efficiency':>19s}")
    for name, rate in rates.items():
        cores = 1 if name.startswith("1 core") else 2
        print(f"{name:32s} {rate:16.2f} {rate / (cores * single):18.0%}")
    shipped = SHIPPED_PATIENT_YEARS / rates["2 cores (processes)"]
    print(f"shipped prevention sweep (400 x 2 arms x 10 y) at the 2-core rate: {shipped / 60:.1f} min")


if __name__ == "__main__":
    main()
