"""The same schedule integrated by ``scipy.integrate.solve_ivp``: the reference the tests and benchmarks compare to.

Segment by segment, with the same jumps, resets and drivers as the numba core, calling
the same (numba-compiled) right-hand side from Python.
"""

import numpy as np
from scipy.integrate import solve_ivp

from glucosim.solver.segments import Schedule


def integrate_schedule_scipy(
    rhs, schedule: Schedule, y0, params, t_out, method: str = "LSODA", rtol: float = 1e-6, atol=1e-9
) -> np.ndarray:
    """States at ``t_out`` (rows), integrating ``rhs`` over ``schedule`` with ``solve_ivp``."""
    y = np.array(y0, dtype=float)
    out = np.empty((len(t_out), len(y)))
    j = 0
    for k in range(len(schedule.t0)):
        t0, t1, drv = schedule.t0[k], schedule.t1[k], schedule.drivers[k]
        while j < len(t_out) and t_out[j] <= t0:
            out[j] = y
            j += 1
        y = np.where(schedule.resets[k], 0.0, y) + schedule.jumps[k]
        inside = [t for t in t_out[j:] if t0 < t <= t1]

        def f(t, state, drv=drv):
            dydt = np.empty_like(state)
            rhs(t, state, drv, params, dydt)
            return dydt

        # t_eval always ends at the segment end, so the last column is the state carried on
        t_eval = sorted(set(inside) | {t1})
        solution = solve_ivp(f, (t0, t1), y, method=method, rtol=rtol, atol=atol, t_eval=t_eval)
        if not solution.success:
            raise RuntimeError(f"solve_ivp failed in segment {k} ({t0}-{t1} min): {solution.message}")
        for column in range(len(inside)):
            out[j] = solution.y[:, column]
            j += 1
        y = solution.y[:, -1]
    while j < len(t_out):
        out[j] = y
        j += 1
    return out
