"""The numba core against scipy's solve_ivp on the same model, tolerances and outputs, in the same run.

    python -m pytest benchmarks --benchmark-columns=min,mean,rounds

Compile time is measured on its own by benchmarks/report.py (a fresh process
with an empty numba cache), never inside these timings: the integrator is
compiled by the fixtures before any round.
"""

from glucosim.physiology.model import rhs
from glucosim.solver.kernel import DEFAULT_RTOL, default_atol
from glucosim.solver.scipy_backend import integrate_schedule_scipy
from glucosim.solver.segments import integrate_schedule


def _glucosim(workload):
    return integrate_schedule(workload.integrator, workload.schedule, workload.y0, workload.params, workload.t_out,
                              workload.tolerances, workload.names)


def test_day_glucosim_dopri5(benchmark, one_day):
    result = benchmark(_glucosim, one_day)
    benchmark.extra_info["rhs_evaluations"] = result.stats.rhs_evaluations


def test_day_scipy_lsoda_numba_rhs(benchmark, one_day):
    benchmark.pedantic(integrate_schedule_scipy, args=(rhs, one_day.schedule, one_day.y0, one_day.params, one_day.t_out),
                       kwargs={"method": "LSODA", "rtol": DEFAULT_RTOL, "atol": default_atol()}, rounds=5, iterations=1,
                       warmup_rounds=1)


def test_day_scipy_rk45_numba_rhs(benchmark, one_day):
    benchmark.pedantic(integrate_schedule_scipy, args=(rhs, one_day.schedule, one_day.y0, one_day.params, one_day.t_out),
                       kwargs={"method": "RK45", "rtol": DEFAULT_RTOL, "atol": default_atol()}, rounds=3, iterations=1,
                       warmup_rounds=1)


def test_year_glucosim_dopri5(benchmark, one_year):
    result = benchmark.pedantic(_glucosim, args=(one_year,), rounds=3, iterations=1)
    benchmark.extra_info["rhs_evaluations"] = result.stats.rhs_evaluations
