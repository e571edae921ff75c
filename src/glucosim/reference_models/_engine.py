"""Run a reference model's right-hand side through the solver contract (``glucosim.solver``)."""

import numpy as np

from glucosim.solver import Schedule, Tolerances, bound_integrator, integrate_schedule


def integrator_for(rhs, name: str, method: str = "dopri5"):
    """The compiled integrator of ``rhs`` (a reference model's right-hand side) by registered ``method``."""
    return bound_integrator(rhs, name, method)


def run(
    rhs,
    name: str,
    y0,
    params,
    t_end: float,
    t_out,
    drivers=None,
    rtol: float = 1e-10,
    atol: float = 1e-12,
    state_names=(),
    h_max: float = np.inf,
    method: str = "dopri5",
):
    """Integrate one constant-driver segment [0, t_end] and return the states at ``t_out``."""
    y0 = np.asarray(y0, dtype=float)
    drivers = np.zeros((1, 1)) if drivers is None else np.atleast_2d(np.asarray(drivers, dtype=float))
    schedule = Schedule(np.array([0.0]), np.array([float(t_end)]), drivers, np.zeros((1, y0.size)))
    tolerances = Tolerances(
        rtol=rtol, atol=np.full(y0.size, atol), n_controlled=y0.size, h_init=1e-3, h_max=h_max, max_steps=10_000_000
    )
    names = state_names or tuple(f"y{i}" for i in range(y0.size))
    return integrate_schedule(
        integrator_for(rhs, name, method),
        schedule,
        y0,
        np.asarray(params, dtype=float),
        np.asarray(t_out, dtype=float),
        tolerances,
        names,
    )
