"""One BLAS thread for the sweep analysis: SALib's estimators make many small BLAS calls.

SALib's delta estimator (``glucosim analyze`` on a Latin hypercube or cohort) runs many small kernel density
estimates. With OpenBLAS's default of one thread per core, on a 2-core machine shared with other processes, the
threads spend most of their time waiting for one another: a 400-run Latin hypercube of 3 variables took 36.6 and
42.0 s of CPU to analyse, against 6.6 and 7.4 s with one thread (``glucosim analyze DIR --no-figures``, load 6-8).

Two ways, because a thread count is read when the library loads: the command line sets the environment variables
before numpy is imported (``single_blas_thread_environment``); code that runs after numpy is loaded limits the
loaded libraries for a block (``single_blas_thread``: threadpoolctl if installed, else OpenBLAS's own
``set_num_threads`` on every OpenBLAS the process has loaded, found in ``/proc/self/maps``; elsewhere nothing).
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import sys
from collections.abc import Iterator

BLAS_THREAD_VARIABLES = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")
"""Environment variables that OpenBLAS, OpenMP and MKL read for their thread count when they load."""

_OPENBLAS_SYMBOLS = (
    ("openblas_get_num_threads", "openblas_set_num_threads"),
    ("scipy_openblas_get_num_threads64_", "scipy_openblas_set_num_threads64_"),  # numpy's wheels
    ("scipy_openblas_get_num_threads", "scipy_openblas_set_num_threads"),  # scipy's wheels
    ("openblas_get_num_threads64_", "openblas_set_num_threads64_"),
)


def single_blas_thread_environment() -> list[str]:
    """Set the BLAS thread variables to 1 where the user has not set them; returns the names set.

    Effective only before numpy (or scipy) is first imported, so nothing is set once it is: the caller should use
    ``single_blas_thread`` then."""
    if "numpy" in sys.modules:
        return []
    missing = [name for name in BLAS_THREAD_VARIABLES if name not in os.environ]
    for name in missing:
        os.environ[name] = "1"
    return missing


def _loaded_openblas() -> list[tuple[ctypes.CDLL, str, str]]:
    """(library, get symbol, set symbol) of every OpenBLAS loaded in this process (Linux only)."""
    try:
        with open("/proc/self/maps") as maps:
            paths = {line.split()[-1] for line in maps if "openblas" in line.lower()}
    except OSError:
        return []
    found = []
    for path in sorted(path for path in paths if path.startswith("/")):
        try:
            library = ctypes.CDLL(path, mode=os.RTLD_NOLOAD if hasattr(os, "RTLD_NOLOAD") else 0)
        except OSError:
            continue
        for get_name, set_name in _OPENBLAS_SYMBOLS:
            if hasattr(library, get_name) and hasattr(library, set_name):
                found.append((library, get_name, set_name))
                break
    return found


def openblas_threads() -> list[int]:
    """The thread count of every OpenBLAS loaded in this process (empty where none is found)."""
    return [int(getattr(library, get_name)()) for library, get_name, _ in _loaded_openblas()]


@contextlib.contextmanager
def single_blas_thread() -> Iterator[None]:
    """Limit the loaded BLAS libraries to one thread inside the block, and restore them after it."""
    try:
        from threadpoolctl import threadpool_limits  # optional: not a dependency of glucosim
    except ImportError:
        threadpool_limits = None
    if threadpool_limits is not None:
        with threadpool_limits(limits=1, user_api="blas"):
            yield
        return
    libraries = _loaded_openblas()
    before = [int(getattr(library, get_name)()) for library, get_name, _ in libraries]
    for library, _, set_name in libraries:
        getattr(library, set_name)(1)
    try:
        yield
    finally:
        for (library, _, set_name), threads in zip(libraries, before):
            getattr(library, set_name)(threads)
