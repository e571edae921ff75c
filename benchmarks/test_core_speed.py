"""The numba core against its peers on the same model, tolerances and outputs, in the same run.

    python -m pytest benchmarks --benchmark-columns=min,mean,rounds

Peers: scipy's ``solve_ivp`` (LSODA, RK45) and CyRK's ``nbsolve2_ivp`` (``pip install 'glucosim[bench]'``)
calling the same numba right-hand side, and libroadrunner on the SBML export (see ``peers.py``); a peer
that is not installed is skipped. Compile time is measured on its own by benchmarks/report.py (a fresh
process with an empty numba cache), never inside these timings: everything is compiled by the fixtures
or a warm-up round before any timed round.
"""

import pytest
from peers import cyrk_available, make_cyrk, make_cyrk_ensemble, make_roadrunner, roadrunner_available

from glucosim.physiology.model import rhs
from glucosim.simulation.organ import DEFAULT_RTOL, default_atol, organ_ensemble
from glucosim.solver.ensemble import integrate_ensemble
from glucosim.solver.scipy_backend import integrate_schedule_scipy
from glucosim.solver.segments import integrate_schedule

needs_cyrk = pytest.mark.skipif(not cyrk_available(), reason="CyRK not installed (pip install 'glucosim[bench]')")
needs_roadrunner = pytest.mark.skipif(not roadrunner_available(), reason="libroadrunner/python-libsbml not installed")


def _glucosim(workload):
    return integrate_schedule(
        workload.integrator,
        workload.schedule,
        workload.y0,
        workload.params,
        workload.t_out,
        workload.tolerances,
        workload.names,
    )


def _glucosim_ensemble(ensemble):
    return integrate_ensemble(
        ensemble.schedule, ensemble.y0, ensemble.params, ensemble.t_out, ensemble.tolerances, organ_ensemble()
    )


def test_day_glucosim_dopri5(benchmark, one_day):
    result = benchmark(_glucosim, one_day)
    benchmark.extra_info["rhs_evaluations"] = result.stats.rhs_evaluations


@needs_cyrk
def test_day_cyrk_rk45_numba_rhs(benchmark, one_day):
    benchmark(make_cyrk(one_day))


def test_day_glucosim_dop853(benchmark, one_day):
    """The 8th-order method on the same day (its fair peer is CyRK's DOP853, below)."""
    from glucosim.simulation.organ import organ_integrator

    integrator = organ_integrator("dop853")
    day = one_day

    def run():
        return integrate_schedule(integrator, day.schedule, day.y0, day.params, day.t_out, day.tolerances, day.names)

    result = benchmark(run)
    benchmark.extra_info["rhs_evaluations"] = result.stats.rhs_evaluations


@needs_cyrk
def test_day_cyrk_dop853_numba_rhs(benchmark, one_day):
    benchmark(make_cyrk(one_day, "DOP853"))


@needs_roadrunner
def test_day_roadrunner_sbml(benchmark, one_day, tmp_path):
    benchmark.pedantic(make_roadrunner(one_day, tmp_path), rounds=10, iterations=1, warmup_rounds=1)


def test_day_scipy_lsoda_numba_rhs(benchmark, one_day):
    benchmark.pedantic(
        integrate_schedule_scipy,
        args=(rhs, one_day.schedule, one_day.y0, one_day.params, one_day.t_out),
        kwargs={"method": "LSODA", "rtol": DEFAULT_RTOL, "atol": default_atol()},
        rounds=5,
        iterations=1,
        warmup_rounds=1,
    )


def test_day_scipy_rk45_numba_rhs(benchmark, one_day):
    benchmark.pedantic(
        integrate_schedule_scipy,
        args=(rhs, one_day.schedule, one_day.y0, one_day.params, one_day.t_out),
        kwargs={"method": "RK45", "rtol": DEFAULT_RTOL, "atol": default_atol()},
        rounds=3,
        iterations=1,
        warmup_rounds=1,
    )


def test_year_glucosim_dopri5(benchmark, one_year_daily):
    result = benchmark.pedantic(_glucosim, args=(one_year_daily,), rounds=3, iterations=1)
    benchmark.extra_info["rhs_evaluations"] = result.stats.rhs_evaluations


def test_ensemble_glucosim_prange(benchmark, ensemble):
    _glucosim_ensemble(ensemble)  # compile the parallel kernel outside the timing
    benchmark.pedantic(_glucosim_ensemble, args=(ensemble,), rounds=3, iterations=1)
    benchmark.extra_info["patient_days"] = ensemble.n_patients * ensemble.days


@needs_cyrk
def test_ensemble_cyrk_prange(benchmark, ensemble):
    benchmark.pedantic(make_cyrk_ensemble(ensemble), rounds=3, iterations=1)
    benchmark.extra_info["patient_days"] = ensemble.n_patients * ensemble.days
