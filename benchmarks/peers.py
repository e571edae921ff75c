"""The peers glucosim is measured against, each running the same schedule, tolerances and outputs.

- CyRK's ``nbsolve2_ivp`` (the ``bench`` extra): its C++ RK45 (Dormand-Prince 5(4), the same tableau as
  glucosim's core) calls glucosim's numba right-hand side through a C callback; the loop over
  segments runs in numba too, so neither side pays Python overhead per segment.
- libroadrunner (the ``test`` extra) on the SBML export of the fast model (``glucosim.io.sbml``): CVODE
  (Adams; see ``ROADRUNNER_STIFF``) segment by segment, with the same jumps and drivers set between
  segments. The export freezes the
  slow states (it integrates ``len(glucosim.io.sbml.FAST_STATES)`` states against glucosim's
  ``indices.FIRST_QUADRATURE`` controlled ones), which only favours roadrunner.

Each helper returns a callable that integrates the workload once and returns the states at the
outputs, so the caller can both time it and check it agrees with glucosim.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from glucosim.physiology.indices import FIRST_QUADRATURE, N_DRIVERS, N_STATES, St

UNCONTROLLED_ATOL = 1e300
"""Absolute tolerance that takes a state out of a peer's error norm (glucosim does not control quadratures)."""
CYRK_METHOD = "RK45"
"""CyRK's Dormand-Prince 5(4): the method glucosim's core uses."""
ROADRUNNER_ABSOLUTE_TOLERANCE = 1e-8
"""CVODE takes one absolute tolerance; glucosim's per-state ones span 1e-10 to 1e-5 (state units)."""
ROADRUNNER_STIFF = False
"""CVODE's Adams method: its BDF/Newton path fails at the exercise start (CV_CONV_FAILURE at t = 1020 min)."""


def peer_atol(atol: np.ndarray) -> np.ndarray:
    """Per-state absolute tolerances for a peer: glucosim's, with the quadratures and constants left uncontrolled."""
    atol = np.array(atol, dtype=float)
    atol[FIRST_QUADRATURE:] = UNCONTROLLED_ATOL
    return atol


def cyrk_available() -> bool:
    """True if CyRK (``pip install 'glucosim[bench]'``) is installed."""
    try:
        import CyRK  # noqa: F401
    except ImportError:
        return False
    return True


def roadrunner_available() -> bool:
    """True if libroadrunner and python-libsbml are installed."""
    try:
        import libsbml  # noqa: F401
        import roadrunner  # noqa: F401
    except ImportError:
        return False
    return True


@lru_cache(maxsize=1)
def _cyrk_functions():
    """CyRK's C callback over glucosim's rhs, and numba drivers over a schedule (one patient, many in prange)."""
    import numba
    from CyRK import nb_diffeq_addr, nbsolve2_ivp
    from numba import carray

    from glucosim.physiology.indices import Par
    from glucosim.physiology.model import rhs

    n_args = N_DRIVERS + len(Par)

    def diffeq(dy_ptr, t, y_ptr, args_ptr):
        # CyRK passes one double array: the segment's drivers followed by the parameters
        y = carray(y_ptr, (N_STATES,))
        dydt = carray(dy_ptr, (N_STATES,))
        args = carray(args_ptr, (n_args,))
        rhs(t, y, args[:N_DRIVERS], args[N_DRIVERS:], dydt)

    address = nb_diffeq_addr(diffeq)

    @numba.njit
    def run(method, address, y0, seg_t0, seg_t1, seg_drivers, seg_jumps, seg_resets, params, t_out, rtol, atol, h_max):
        n_out = t_out.shape[0]
        y_out = np.empty((n_out, N_STATES))
        y = y0.copy()
        args = np.empty(n_args)
        args[N_DRIVERS:] = params
        j = 0
        for s in range(seg_t0.shape[0]):
            while j < n_out and t_out[j] <= seg_t0[s]:
                y_out[j] = y
                j += 1
            for i in range(N_STATES):  # the contract's event: resets, then jumps
                if seg_resets[s, i]:
                    y[i] = 0.0
                y[i] += seg_jumps[s, i]
            args[:N_DRIVERS] = seg_drivers[s]
            # outputs inside the segment, and its end (the state carried on)
            k = j
            while k < n_out and t_out[k] < seg_t1[s]:
                k += 1
            t_eval = np.empty(k - j + 1)
            t_eval[: k - j] = t_out[j:k]
            t_eval[k - j] = seg_t1[s]
            solution = nbsolve2_ivp(
                address,
                (seg_t0[s], seg_t1[s]),
                y,
                method=method,
                t_eval=t_eval,
                args=args,
                rtol=rtol,
                atols=atol,
                max_step=h_max,
            )
            if not solution.success:
                raise RuntimeError("CyRK failed")
            ys = solution.y
            for m in range(k - j):
                y_out[j + m] = ys[:, m]
            y = ys[:, k - j].copy()
            solution.free()
            j = k
        while j < n_out:
            y_out[j] = y
            j += 1
        return y_out

    @numba.njit(parallel=True)
    def run_many(
        method, address, y0, seg_t0, seg_t1, seg_drivers, seg_jumps, seg_resets, params, t_out, rtol, atol, h_max
    ):
        y_out = np.empty((y0.shape[0], t_out.shape[0], N_STATES))
        for k in numba.prange(y0.shape[0]):
            y_out[k] = run(
                method,
                address,
                y0[k],
                seg_t0,
                seg_t1,
                seg_drivers,
                seg_jumps,
                seg_resets,
                params[k],
                t_out,
                rtol,
                atol,
                h_max,
            )
        return y_out

    return address, run, run_many


def make_cyrk(workload, method: str = CYRK_METHOD):
    """A callable integrating ``workload`` with CyRK's ``nbsolve2_ivp``; returns the states at the outputs."""
    address, run, _ = _cyrk_functions()
    schedule, tolerances = workload.schedule, workload.tolerances
    atol = peer_atol(tolerances.atol)

    def integrate():
        return run(
            method,
            address,
            workload.y0,
            schedule.t0,
            schedule.t1,
            schedule.drivers,
            schedule.jumps,
            schedule.resets,
            workload.params,
            workload.t_out,
            tolerances.rtol,
            atol,
            tolerances.h_max,
        )

    integrate()  # compile outside any timing
    return integrate


def make_cyrk_ensemble(ensemble, method: str = CYRK_METHOD):
    """A callable integrating every patient of ``ensemble`` (``conftest.Ensemble``) with CyRK in numba prange."""
    address, _, run_many = _cyrk_functions()
    schedule, tolerances = ensemble.schedule, ensemble.tolerances
    atol = peer_atol(tolerances.atol)

    def integrate():
        return run_many(
            method,
            address,
            ensemble.y0,
            schedule.t0,
            schedule.t1,
            schedule.drivers,
            schedule.jumps,
            schedule.resets,
            ensemble.params,
            ensemble.t_out,
            tolerances.rtol,
            atol,
            tolerances.h_max,
        )

    integrate()
    return integrate


def make_roadrunner(workload, tmp_dir):
    """A callable integrating ``workload``'s fast model with libroadrunner on the SBML export.

    Returns the fast states (``glucosim.io.sbml.FAST_STATES`` order) at the outputs.
    """
    import roadrunner

    from glucosim.io import sbml

    # CVODE warns (hundreds of lines) that its first step after the exercise-start reset is below t's
    # resolution and goes on; the warnings would bury the report's table (errors still show)
    roadrunner.Logger.setLevel(roadrunner.Logger.LOG_ERROR)
    schedule = workload.schedule
    path = sbml.write_sbml(tmp_dir / "benchmark_day.xml", workload.y0, workload.params, schedule.drivers[0])
    runner = roadrunner.RoadRunner(str(path))
    runner.integrator.relative_tolerance = workload.tolerances.rtol
    runner.integrator.absolute_tolerance = ROADRUNNER_ABSOLUTE_TOLERANCE
    runner.integrator.stiff = ROADRUNNER_STIFF
    states = list(sbml.FAST_STATES)
    runner.timeCourseSelections = ["time"] + states
    t_out = workload.t_out

    def integrate():
        runner.resetAll()
        for name in states:
            runner[name] = float(workload.y0[St[name]])
        pieces = [np.array([[workload.y0[St[name]] for name in states]])]
        for s in range(len(schedule.t0)):
            t0, t1 = float(schedule.t0[s]), float(schedule.t1[s])
            for name in states:
                jump, reset = schedule.jumps[s, St[name]], schedule.resets[s, St[name]]
                if jump or reset:
                    runner[name] = (0.0 if reset else runner[name]) + float(jump)
            for name in sbml.EXPORTED_DRIVERS:
                runner[name] = float(schedule.drivers[s, _driver_index(name)])
            inside = t_out[(t_out > t0) & (t_out <= t1)]
            points = len(inside) + 1
            # outputs on the uniform grid of the segment (the workload's segments start and end on the grid)
            result = runner.simulate(t0, t1, points)
            pieces.append(np.asarray(result)[1:, 1:])
        return np.vstack(pieces)

    integrate()
    return integrate


def _driver_index(name: str) -> int:
    from glucosim.physiology.indices import Drv

    return int(Drv[name])
