"""Sweep throughput under pytest-benchmark (patient-years/s in extra_info); the table: sweep_throughput.py."""

import tempfile

import pytest
from sweep_throughput import CHUNK_RUNS, cohort_sweep

from glucosim.sweep import run_sweep

PATIENTS = 8
YEARS = 1.0


@pytest.mark.parametrize("workers", [1, 2])
def test_sweep_throughput_local(benchmark, workers):
    loaded = cohort_sweep(PATIENTS, YEARS)

    def sweep_once():
        with tempfile.TemporaryDirectory() as out:
            return run_sweep(loaded, out, workers=workers, chunk_runs=CHUNK_RUNS, progress=False)

    outcome = benchmark.pedantic(sweep_once, rounds=2, iterations=1, warmup_rounds=1)
    assert outcome.complete and outcome.n_failed == 0
    benchmark.extra_info["patient_years_per_s"] = PATIENTS * YEARS / benchmark.stats.stats.min
