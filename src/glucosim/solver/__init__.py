"""Solvers. The model does not know which solver runs it.

The contract a right-hand side meets: ``rhs(t, y, drv, p, dydt)`` writes dy/dt
into ``dydt`` for state ``y`` at time ``t`` under constant drivers ``drv`` and
parameters ``p`` (all float64 arrays); it allocates nothing and has no side
effects. ``dopri5.bind_integrator(rhs, name)`` compiles and caches an adaptive
integrator for it over a schedule of segments (see ``Schedule``);
``dopri5.bind_ensemble`` the parallel one behind ``integrate_ensemble`` (many
patients on one schedule).
"""

from glucosim.solver.dopri5 import SolverStats, bind_ensemble, bind_integrator
from glucosim.solver.ensemble import EnsembleResult, integrate_ensemble
from glucosim.solver.segments import IntegrationResult, integrate_schedule

__all__ = [
    "SolverStats",
    "bind_ensemble",
    "bind_integrator",
    "EnsembleResult",
    "integrate_ensemble",
    "IntegrationResult",
    "integrate_schedule",
]
