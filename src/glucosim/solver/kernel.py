"""The organ model's compiled integrator and its tolerances.

The cache name carries a hash of the physiology sources, the parameter table
and the solver template: numba does not notice when a called function in
another file changes, so the name does it for it.
"""

import hashlib
from functools import lru_cache
from pathlib import Path

import numba
import numpy as np

from glucosim.physiology.indices import FIRST_QUADRATURE, N_STATES, PARAMETER_TABLE_PATH, STATE_NAMES
from glucosim.solver.segments import Tolerances

_PACKAGE = Path(__file__).resolve().parent.parent

DEFAULT_RTOL = 1e-6
"""Relative tolerance of the organ model (verified against scipy in tests/test_solver.py)."""

# Absolute tolerances by state family, in state units: ~1e-8 of the physiological scale of each,
# so relative error dominates (verified against scipy at 1e-5 in tests/test_solver.py).
_ATOL_BY_PREFIX = {
    "stomach": 1e-5,  # mg/kg (meals are 100s-1000s mg/kg)
    "gut": 1e-5,
    "glucose": 1e-5,  # mg/kg and mg/dl
    "insulin": 1e-6,  # pmol/kg and pmol/l
    "secretion": 1e-7,
    "nefa": 1e-8,  # mmol/l
    "exercise": 1e-8,
    "post_exercise": 1e-9,
    "training": 1e-9,
    "beta": 1e-10,  # relative units
    "drift": 1e-10,
    "weight": 1e-8,  # kg
    "fat_mass": 1e-8,  # kg
    "adaptive_thermogenesis": 1e-6,  # kcal/day
    "cum": 1.0,  # quadratures do not steer the step
}


def cached_copy(function, name: str):
    """A disk-cached numba compilation of plain Python ``function`` under a unique ``name``.

    Physiology kernels are compiled uncached (see physiology._jit); entry
    points called from Python get a cached copy whose name carries the source
    hash, so a stale cache is never used.
    """
    import types

    copy = types.FunctionType(function.__code__, function.__globals__, name, function.__defaults__)
    copy.__qualname__ = name
    return numba.njit(cache=True, error_model="numpy")(copy)


def _source_hash() -> str:
    digest = hashlib.sha256()
    sources = sorted((_PACKAGE / "physiology").glob("*.py")) + [_PACKAGE / "solver" / "dopri5.py"]
    for path in sources + [PARAMETER_TABLE_PATH]:
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def default_atol() -> np.ndarray:
    """Per-state absolute tolerances for the organ model."""
    atol = np.empty(N_STATES)
    for i, name in enumerate(STATE_NAMES):
        atol[i] = next(value for prefix, value in _ATOL_BY_PREFIX.items() if name.startswith(prefix))
    return atol


def default_tolerances(rtol: float = DEFAULT_RTOL) -> Tolerances:
    """Tolerances for the organ model at relative tolerance ``rtol``."""
    return Tolerances(rtol=rtol, atol=default_atol(), n_controlled=int(FIRST_QUADRATURE))


@lru_cache(maxsize=1)
def organ_integrator():
    """The compiled integrator of ``physiology.model.rhs`` (compiled or loaded from cache on first use)."""
    from glucosim.physiology.model import rhs
    from glucosim.solver.dopri5 import bind_integrator

    return bind_integrator(rhs, f"integrate_organ_model_{_source_hash()}")


@lru_cache(maxsize=1)
def organ_ensemble():
    """The parallel (``numba.prange``) ensemble integrator of ``physiology.model.rhs``.

    Compiled separately from ``organ_integrator`` (on first use, cached on disk
    under the same source hash), so a single simulation never pays for it.
    """
    from glucosim.physiology.model import rhs
    from glucosim.solver.dopri5 import bind_ensemble

    return bind_ensemble(rhs, f"integrate_organ_model_{_source_hash()}")


@lru_cache(maxsize=1)
def organ_fluxes():
    """``physiology.model.evaluate_fluxes``, compiled once and cached on disk under the source hash."""
    from glucosim.physiology.model import evaluate_fluxes

    return cached_copy(evaluate_fluxes.py_func, f"evaluate_fluxes_{_source_hash()}")
