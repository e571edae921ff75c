"""The solver tests' analytic problems as one right-hand side, the problem chosen by ``params[0]``.

Every right-hand side bound to a method is a numba kernel of its own, compiled once per method and name when numba's
disk cache is cold (a fresh clone, or an edited solver): 5-7 s of CPU each on a 2-core machine (2026-12-03). The
five problems of tests/test_solver.py and tests/test_solver_rosw.py, bound one by one, made 10 such kernels, about a
minute of the quick tier's CPU in a fresh clone; dispatched on ``params[0]`` they make one kernel per method (3).
Each branch is the problem's former function, operation for operation, so the numbers are those it gave alone; the
integrators never look at ``params`` (they pass it to the right-hand side), and each problem's ``params`` are
``problem_params(PROBLEM)``.

The kernels' cache names carry a digest of this file: numba's disk cache checks the integrator template's file, not
the right-hand side it calls, so an edit here must change the name to be compiled again (not served stale)."""

import functools
import hashlib
from pathlib import Path

import numba
import numpy as np

DECAY = 0
"""y0' = -k y0 (k = drivers[0]), y1' = cos t: exact e^-kt and sin t."""
BLOW_UP = 1
"""y0' = y0^2 (y1 left alone): from y0(0) = 1 it blows up at t = 1."""
PROTHERO_ROBINSON = 2
"""y0' = -k (y0 - cos t) - sin t, y1' = cos t: from y0(0) = 1 the exact solution is cos t, whatever k."""
NONLINEAR = 3
"""A stiff state whose rate moves with a slow one (its Jacobian entry changes along the run) and a quadrature."""
LINEAR = 4
"""A stiff mode fed by a slow one: y0' = -k y0 + y1, y1' = -y1 / 2."""


@numba.njit
def problem_rhs(t, y, drv, p, dydt):
    problem = p[0]
    if problem == DECAY:
        dydt[0] = -drv[0] * y[0]
        dydt[1] = np.cos(t)
    elif problem == BLOW_UP:
        dydt[0] = y[0] * y[0]
    elif problem == PROTHERO_ROBINSON:
        dydt[0] = -drv[0] * (y[0] - np.cos(t)) - np.sin(t)
        dydt[1] = np.cos(t)
    elif problem == NONLINEAR:
        dydt[0] = -drv[0] * (1.0 + y[1] * y[1]) * (y[0] - y[1])
        dydt[1] = -0.5 * y[1] + np.sin(t)
        dydt[2] = y[0]
    else:  # LINEAR
        dydt[0] = -drv[0] * y[0] + y[1]
        dydt[1] = -0.5 * y[1]


def problem_params(problem: int, patients: int | None = None) -> np.ndarray:
    """``params`` selecting ``problem``: one vector, or one row per patient for an ensemble."""
    shape = (1,) if patients is None else (patients, 1)
    return np.full(shape, float(problem))


_DIGEST = hashlib.sha256(Path(__file__).read_bytes()).hexdigest()[:12]
NAME = f"integrate_test_problems_{_DIGEST}"
"""The base of the kernels' cache names (the method's name is added, as ``bound`` and the ensemble tests do)."""


@functools.cache
def bound(method: str):
    """``method``'s integrator for ``problem_rhs``, bound (compiled or loaded from numba's disk cache) once per
    process."""
    from glucosim.solver import get_method

    return get_method(method).bind(problem_rhs, f"{NAME}_{method}")
