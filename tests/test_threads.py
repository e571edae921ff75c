"""glucosim analyze runs SALib on one BLAS thread (OpenBLAS's threads cost ~6x the CPU on 2 shared cores)."""

import os
import subprocess
import sys
from pathlib import Path

import numpy  # noqa: F401 (loads OpenBLAS in this process)
import pytest
import scipy.linalg  # noqa: F401 (and scipy's own)
from click.testing import CliRunner

from glucosim import _threads
from glucosim.errors import SweepError

SRC = Path(__file__).resolve().parent.parent / "src"


def _set_first_openblas_threads(threads: int) -> None:
    library, _, set_name = _threads._loaded_openblas()[0]
    getattr(library, set_name)(threads)


@pytest.fixture
def loaded_threads() -> list[int]:
    threads = _threads.openblas_threads()
    if not threads:
        pytest.skip("no OpenBLAS loaded in this process (another BLAS, or not Linux)")
    return threads


def test_single_blas_thread_limits_every_loaded_openblas_and_restores_it(loaded_threads):
    _set_first_openblas_threads(2)  # more than one thread before
    before = _threads.openblas_threads()
    assert max(before) == 2
    with _threads.single_blas_thread():
        assert _threads.openblas_threads() == [1] * len(before)
    assert _threads.openblas_threads() == before


def test_the_environment_is_set_before_numpy_loads_and_left_alone_if_the_user_set_it(loaded_threads):
    script = (
        "import os; from glucosim import _threads; print(sorted(_threads.single_blas_thread_environment())); "
        "import numpy, scipy.linalg; print(_threads.openblas_threads(), os.environ['OMP_NUM_THREADS'])"
    )
    env = {key: value for key, value in os.environ.items() if key not in _threads.BLAS_THREAD_VARIABLES}
    env.update(PYTHONPATH=str(SRC), OPENBLAS_NUM_THREADS="2")
    lines = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, check=True
    ).stdout.splitlines()
    assert lines[0] == "['MKL_NUM_THREADS', 'OMP_NUM_THREADS']"  # the user's OPENBLAS_NUM_THREADS is kept
    assert lines[1].startswith("[2") and lines[1].endswith(" 1")
    assert _threads.single_blas_thread_environment() == []  # numpy is loaded here: too late, nothing set


def test_cli_analyze_runs_the_analysis_on_one_blas_thread(loaded_threads, tmp_path, monkeypatch):
    import glucosim.analysis.sweep
    from glucosim.cli import main

    seen = []

    def analyze_sweep(*args, **kwargs):
        seen.append(_threads.openblas_threads())
        raise SweepError("stop here")

    _set_first_openblas_threads(2)
    monkeypatch.setattr(glucosim.analysis.sweep, "analyze_sweep", analyze_sweep)
    result = CliRunner().invoke(main, ["analyze", str(tmp_path)])
    assert result.exit_code == 2 and "stop here" in result.output
    assert seen and set(seen[0]) == {1}
    assert max(_threads.openblas_threads()) == 2  # restored after the command
