"""The organ model bound to the solver contract: its compiled integrators, fluxes and tolerances.

This is the model side of the binding (the solver package knows states by
position only and never imports the physiology).

The cache name carries a hash of the physiology sources, the parameter table
and the solver template: numba does not notice when a called function in
another file changes, so the name does it for it.
"""

import hashlib
from functools import cache, lru_cache
from pathlib import Path

import numba
import numpy as np

from glucosim.physiology.indices import FIRST_QUADRATURE, PARAMETER_TABLE_PATH, STATE_ATOL
from glucosim.solver.segments import Tolerances

_PACKAGE = Path(__file__).resolve().parent.parent

DEFAULT_RTOL = 1e-6
"""Relative tolerance of the organ model (verified against scipy in tests/test_solver.py)."""

DEFAULT_METHOD = "dopri5"
"""The organ model's solver method. dop853 is registered too; on this model at DEFAULT_RTOL it takes about
half dopri5's steps but 1.3x its right-hand-side evaluations (benchmarks/method_accuracy.py, report.py)."""


def cached_copy(function, name: str, bind: dict | None = None):
    """A disk-cached numba compilation of plain Python ``function`` under a unique ``name``.

    Physiology kernels are compiled uncached (see physiology._jit); entry
    points called from Python get a cached copy whose name carries the source
    hash, so a stale cache is never used. ``bind``: globals the copy sees besides
    ``function``'s own (the model's ``rhs`` for the loops below that call it).
    """
    import types

    namespace = {**function.__globals__, **bind} if bind else function.__globals__
    copy = types.FunctionType(function.__code__, namespace, name, function.__defaults__)
    copy.__qualname__ = name
    return numba.njit(cache=True, error_model="numpy")(copy)


def _source_hash(method: str = DEFAULT_METHOD) -> str:
    from glucosim.solver.contract import get_method

    digest = hashlib.sha256()
    # the method's own file, and every solver file it may take templates or coefficients from
    sources = sorted((_PACKAGE / "physiology").glob("*.py")) + [get_method(method).source]
    sources += sorted((_PACKAGE / "solver").glob("*.py"))
    for path in sources + [PARAMETER_TABLE_PATH]:
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def default_atol() -> np.ndarray:
    """Per-state absolute tolerances for the organ model, in state units (``physiology.indices.STATE_TABLE``)."""
    return np.array(STATE_ATOL, dtype=float)


def default_tolerances(rtol: float = DEFAULT_RTOL) -> Tolerances:
    """Tolerances for the organ model at relative tolerance ``rtol``."""
    return Tolerances(rtol=rtol, atol=default_atol(), n_controlled=int(FIRST_QUADRATURE))


@cache
def organ_integrator(method: str = DEFAULT_METHOD):
    """The compiled integrator of ``physiology.model.rhs`` by registered ``method`` (compiled or loaded once)."""
    from glucosim.physiology.model import rhs
    from glucosim.solver import segments

    return segments.bound_integrator(rhs, f"integrate_organ_model_{_source_hash(method)}", method)


@cache
def organ_ensemble(method: str = DEFAULT_METHOD):
    """The parallel (``numba.prange``) ensemble integrator of ``physiology.model.rhs``.

    Compiled separately from ``organ_integrator`` (on first use, cached on disk
    under the same source hash), so a single simulation never pays for it.
    """
    from glucosim.physiology.model import rhs
    from glucosim.solver import segments

    return segments.bound_integrator(rhs, f"integrate_organ_model_{_source_hash(method)}", method, ensemble=True)


@lru_cache(maxsize=1)
def organ_fluxes():
    """``physiology.model.evaluate_fluxes``, compiled once and cached on disk under the source hash."""
    from glucosim.physiology.model import evaluate_fluxes

    return cached_copy(evaluate_fluxes.py_func, f"evaluate_fluxes_{_source_hash()}")


def _jacobian_diagonal(y, drv, p):
    # forward differences of each state's own derivative (compiled with ``rhs`` bound as a global)
    n = y.shape[0]
    base = np.empty(n)
    rhs(0.0, y, drv, p, base)  # noqa: F821 (bound in organ_jacobian_diagonal)
    out = np.zeros(n)
    moved = np.empty(n)
    trial = y.copy()
    for i in range(n):
        h = 1e-6 * max(abs(y[i]), 1e-3)
        trial[i] = y[i] + h
        rhs(0.0, trial, drv, p, moved)  # noqa: F821
        out[i] = (moved[i] - base[i]) / h
        trial[i] = y[i]
    return out


@cache
def organ_jacobian_diagonal():
    """``f(y, drv, p)``: the diagonal of ``physiology.model.rhs``'s Jacobian (per minute), compiled once and
    cached on disk under the source hash (calling the uncached ``rhs`` from Python would compile it in every
    process, seconds of a sweep worker's time)."""
    from glucosim.physiology.model import rhs

    return cached_copy(_jacobian_diagonal, f"jacobian_diagonal_{_source_hash()}", bind={"rhs": rhs})


@cache
def organ_rhs():
    """``physiology.model.rhs`` as a disk-cached compiled copy, for calls from Python (probes and tests)."""
    from glucosim.physiology.model import rhs

    return cached_copy(rhs.py_func, f"rhs_{_source_hash()}")


def _offset_bias(y, segment, drivers, t, rows, p, delta0, rates):
    # mean over ``rows`` of rhs(y) - rhs(y - delta0 exp(rates (t - t0))): see DayStepper.offset_bias
    n = y.shape[1]
    total = np.zeros(n)
    base = np.empty(n)
    moved = np.empty(n)
    trial = np.empty(n)
    for row in rows:
        drv = drivers[segment[row]]
        rhs(0.0, y[row], drv, p, base)  # noqa: F821 (bound in organ_offset_bias)
        elapsed = t[row] - t[0]
        for i in range(n):
            trial[i] = y[row, i] - delta0[i] * np.exp(rates[i] * elapsed) if delta0[i] != 0.0 else y[row, i]
        rhs(0.0, trial, drv, p, moved)  # noqa: F821
        for i in range(n):
            total[i] += base[i] - moved[i]
    return total / max(len(rows), 1)


@cache
def organ_offset_bias():
    """``f(y, segment, drivers, t, rows, p, delta0, rates)``: the mean, over the output rows ``rows`` of a stretch
    integrated on the grid ``t`` (minutes), of how much ``physiology.model.rhs`` moves (per minute) when the state
    is offset by ``delta0 * exp(rates * (t - t[0]))`` (``rates`` per minute); compiled once and cached on disk
    under the source hash (envelope following's correction of a period that started off its periodic orbit)."""
    from glucosim.physiology.model import rhs

    return cached_copy(_offset_bias, f"offset_bias_{_source_hash()}", bind={"rhs": rhs})


def _mean_relaxation(y, segment, drivers, rows, p, states):
    # mean over ``rows`` of min(0, d rhs_i / d y_i) for i in ``states`` (forward differences, as _jacobian_diagonal)
    n = y.shape[1]
    out = np.zeros(n)
    base = np.empty(n)
    moved = np.empty(n)
    trial = np.empty(n)
    for row in rows:
        drv = drivers[segment[row]]
        for i in range(n):
            trial[i] = y[row, i]
        rhs(0.0, trial, drv, p, base)  # noqa: F821 (bound in organ_mean_relaxation)
        for i in states:
            h = 1e-6 * max(abs(trial[i]), 1e-3)
            trial[i] = y[row, i] + h
            rhs(0.0, trial, drv, p, moved)  # noqa: F821
            out[i] += min((moved[i] - base[i]) / h, 0.0)
            trial[i] = y[row, i]
    return out / max(len(rows), 1)


@cache
def organ_mean_relaxation():
    """``f(y, segment, drivers, rows, p, states)``: each of ``states``' own relaxation rate (per minute, <= 0; the
    other entries 0), the diagonal of ``physiology.model.rhs``'s Jacobian averaged over the output rows ``rows`` of
    an integrated stretch, in one compiled call (envelope following takes it after every simulated period, for
    its slow states only); cached on disk under the source hash."""
    from glucosim.physiology.model import rhs

    return cached_copy(_mean_relaxation, f"mean_relaxation_{_source_hash()}", bind={"rhs": rhs})
