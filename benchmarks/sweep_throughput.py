"""Sweep throughput: virtual-patient-years per second on 1 and 2 local cores and through Dask.

    python benchmarks/sweep_throughput.py [--patients 16] [--years 2]

Runs the same cohort sweep (the shipped 'prediabetic' cohort, control arm)
three ways, each into a fresh directory, and prints the rate and the
scaling efficiency (rate on n cores / (n x rate on 1 core)). Each timing
includes what a user waits for: starting worker processes and loading
numba's cache in each. Run on an otherwise idle machine.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from glucosim._toml import load_toml
from glucosim.sweep import run_sweep
from glucosim.sweep.load import parse_sweep

REPO = Path(__file__).resolve().parent.parent
SWEEP = REPO / "scenarios" / "sweeps" / "prediabetes_lifestyle.toml"
CHUNK_RUNS = 2


def cohort_sweep(patients: int, years: float):
    """The shipped prediabetic cohort, control arm only, resized."""
    data = load_toml(SWEEP)
    data["design"]["samples"] = patients
    data["duration_years"] = years
    data["arms"] = data["arms"][:1]
    return parse_sweep(data, source=str(SWEEP), text=f"{SWEEP.read_text()}\n# benchmark {patients} x {years}")


def patient_years_per_s(loaded, **backend) -> float:
    """Rate of one complete sweep into a fresh directory."""
    with tempfile.TemporaryDirectory() as out:
        started = time.perf_counter()
        outcome = run_sweep(loaded, out, chunk_runs=CHUNK_RUNS, progress=False, **backend)
        elapsed = time.perf_counter() - started
    return outcome.n_runs * loaded.n_years / elapsed


def measure(patients: int, years: float) -> dict[str, float]:
    """Rates (patient-years/s) for 1 process, 2 local processes and a 2-worker Dask LocalCluster."""
    from distributed import Client, LocalCluster

    loaded = cohort_sweep(patients, years)
    run_sweep_warm = cohort_sweep(2, 1)  # compile or load the kernels in this process first
    patient_years_per_s(run_sweep_warm, workers=1)
    rates = {
        "1 core (in process)": patient_years_per_s(loaded, workers=1),
        "2 cores (processes)": patient_years_per_s(loaded, workers=2),
    }
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        with Client(cluster) as client:
            rates["2 cores (Dask LocalCluster)"] = patient_years_per_s(loaded, client=client)
    return rates


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--patients", type=int, default=16)
    parser.add_argument("--years", type=float, default=2.0)
    args = parser.parse_args()
    rates = measure(args.patients, args.years)
    single = rates["1 core (in process)"]
    print(f"sweep of {args.patients} patients x {args.years:g} years, chunks of {CHUNK_RUNS} runs")
    print(f"{'backend':32s} {'patient-years/s':>16s} {'scaling efficiency':>19s}")
    for name, rate in rates.items():
        cores = 1 if name.startswith("1 core") else 2
        print(f"{name:32s} {rate:16.2f} {rate / (cores * single):18.0%}")


if __name__ == "__main__":
    main()
