"""The organ model integrated by scipy's solve_ivp on the same schedule (the test oracle)."""

from glucosim.simulation.organ import organ_rhs
from glucosim.solver.scipy_backend import integrate_schedule_scipy


def solve_with_scipy(schedule, y0, p, t_out, rtol=1e-10, atol=1e-10, method="DOP853"):
    """States at ``t_out`` integrating segment by segment with the same jumps and drivers.

    The right-hand side is ``physiology.model.rhs`` as ``organ_rhs()`` compiles it: the same function with the same
    numba options, but cached on disk under the source hash, so a test process loads it (~1 s of CPU) instead of
    compiling the uncached kernel again (~18 s).
    """
    return integrate_schedule_scipy(organ_rhs(), schedule, y0, p, t_out, method=method, rtol=rtol, atol=atol)
