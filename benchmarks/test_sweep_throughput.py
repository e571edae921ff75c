"""Sweep throughput under pytest-benchmark (patient-years/s in extra_info); the table: sweep_throughput.py."""

import tempfile

import pytest
from sweep_throughput import CHUNK_RUNS, cohort_sweep

from glucosim.sweep import backends, run_sweep

PATIENTS = 8
YEARS = 1.0


@pytest.mark.parametrize(
    ("workers", "start_method"), [(1, None), (2, "spawn"), (2, "forkserver")], ids=["1", "2-spawn", "2-forkserver"]
)
def test_sweep_throughput_local(benchmark, monkeypatch, workers, start_method):
    # 2-forkserver: the warm-up round starts the fork server; the timed rounds fork from it (a second sweep in one
    # session); a command's first sweep also waits for the server's warm-up (sweep_throughput.py times both)
    if start_method is not None:
        monkeypatch.setattr(backends, "START_METHOD", start_method)
    loaded = cohort_sweep(PATIENTS, YEARS)

    def sweep_once():
        with tempfile.TemporaryDirectory() as out:
            return run_sweep(loaded, out, workers=workers, chunk_runs=CHUNK_RUNS, progress=False)

    outcome = benchmark.pedantic(sweep_once, rounds=2, iterations=1, warmup_rounds=1)
    assert outcome.complete and outcome.n_failed == 0
    benchmark.extra_info["patient_years_per_s"] = PATIENTS * YEARS / benchmark.stats.stats.min
