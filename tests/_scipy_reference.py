"""The organ model integrated by scipy's solve_ivp on the same schedule (the test oracle)."""

from glucosim.physiology.model import rhs
from glucosim.solver.scipy_backend import integrate_schedule_scipy


def solve_with_scipy(schedule, y0, p, t_out, rtol=1e-10, atol=1e-10, method="DOP853"):
    """States at ``t_out`` integrating segment by segment with the same jumps and drivers."""
    return integrate_schedule_scipy(rhs, schedule, y0, p, t_out, method=method, rtol=rtol, atol=atol)
