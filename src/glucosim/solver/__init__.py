"""Solvers behind one contract. The model does not know which solver runs it, and nothing here imports the model.

The rules every method meets (inputs, dense output at requested times, exact
stops with jumps at segment boundaries, status codes, work counters) are
numbered in ``glucosim.solver.contract``; methods are chosen by registered
name (``get_method("dopri5")``, ``method_names()``): ``dopri5`` (Dormand-Prince
5(4), the organ model's default), ``dop853`` (Hairer's 8(5,3)) and ``ros34pw2``
(a linearly implicit Rosenbrock-W 3(2) without the explicit methods' stability cap,
with Jacobian and factorisation counters). Callers use the names
exported here: ``Schedule`` and ``Tolerances`` describe a problem,
``bound_integrator(rhs, name, method)`` compiles a method for a right-hand
side, ``integrate_schedule``/``integrate_ensemble`` run it and raise
``SolverError`` on failure.
"""

from glucosim.solver import dop853, dopri5, rosw  # noqa: F401 (register "dop853", "dopri5" and "ros34pw2")
from glucosim.solver.contract import (
    N_COUNTERS,
    STATUS_MESSAGES,
    STATUS_OK,
    Method,
    SolverStats,
    UnknownMethodError,
    get_method,
    method_names,
    register,
)
from glucosim.solver.dopri5 import bind_ensemble, bind_integrator
from glucosim.solver.ensemble import EnsembleResult, integrate_ensemble
from glucosim.solver.segments import IntegrationResult, Schedule, Tolerances, bound_integrator, integrate_schedule

__all__ = [
    "N_COUNTERS",
    "STATUS_MESSAGES",
    "STATUS_OK",
    "EnsembleResult",
    "IntegrationResult",
    "Method",
    "Schedule",
    "SolverStats",
    "Tolerances",
    "UnknownMethodError",
    "bind_ensemble",
    "bind_integrator",
    "bound_integrator",
    "get_method",
    "integrate_ensemble",
    "integrate_schedule",
    "method_names",
    "register",
]
