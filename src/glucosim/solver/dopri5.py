"""Dormand-Prince 5(4) with step-size control, over a schedule of constant-driver segments (method ``"dopri5"``).

It meets the solver contract (``glucosim.solver.contract``); it has no
Jacobian, so its Jacobian and factorisation counters stay 0.

The integration loop runs entirely in numba. Segments end at every
discontinuity (meal, exercise start and end, change of routine), so the step
controller never crashes into one: it steps exactly to the segment end, applies
the next segment's state jump (a meal's glucose into the stomach) and goes on.
Outputs between steps come from the method's continuous extension (Hairer's
``contd5``, 4th order, no extra right-hand-side evaluations), so the step size
is set by accuracy and stability alone, never by how densely outputs are asked
for; an output that coincides with a step end (a segment boundary) is the
step's 5th-order state itself.

The integrator is a template bound to one right-hand side by
``bind_integrator``: numba cannot cache a function that receives another
compiled function as an argument, but it caches one that calls it as a global.
"""

import types
from pathlib import Path

import numba
import numpy as np

from glucosim.solver.contract import (  # noqa: F401 (re-exported for callers of this module)
    N_COUNTERS,
    STATUS_MESSAGES,
    STATUS_NON_FINITE,
    STATUS_OK,
    STATUS_STEP_UNDERFLOW,
    STATUS_TOO_MANY_STEPS,
    Method,
    SolverStats,
    register,
)

# Dormand & Prince 1980 tableau (Hairer, Norsett & Wanner, Solving ODEs I, Table 5.2).
C2, C3, C4, C5 = 1.0 / 5.0, 3.0 / 10.0, 4.0 / 5.0, 8.0 / 9.0
A21 = 1.0 / 5.0
A31, A32 = 3.0 / 40.0, 9.0 / 40.0
A41, A42, A43 = 44.0 / 45.0, -56.0 / 15.0, 32.0 / 9.0
A51, A52, A53, A54 = 19372.0 / 6561.0, -25360.0 / 2187.0, 64448.0 / 6561.0, -212.0 / 729.0
A61, A62, A63, A64, A65 = 9017.0 / 3168.0, -355.0 / 33.0, 46732.0 / 5247.0, 49.0 / 176.0, -5103.0 / 18656.0
A71, A73, A74, A75, A76 = 35.0 / 384.0, 500.0 / 1113.0, 125.0 / 192.0, -2187.0 / 6784.0, 11.0 / 84.0
# error = 5th-order minus embedded 4th-order solution
E1, E3, E4, E5, E6, E7 = (
    71.0 / 57600.0,
    -71.0 / 16695.0,
    71.0 / 1920.0,
    -17253.0 / 339200.0,
    22.0 / 525.0,
    -1.0 / 40.0,
)

# Dense output (Hairer, Norsett & Wanner, Solving ODEs I, II.6; dopri5.f's contd5): with
# theta = (t - t_old) / h, y(t) = r1 + theta (r2 + (1 - theta) (r3 + theta (r4 + (1 - theta) r5))).
D1 = -12715105075.0 / 11282082432.0
D3 = 87487479700.0 / 32700410799.0
D4 = -10690763975.0 / 1880347072.0
D5 = 701980252875.0 / 199316789632.0
D6 = -1453857185.0 / 822651844.0
D7 = 69997945.0 / 29380423.0

# Step controller (Hairer's defaults for DOPRI5): h_new = h * clip(SAFETY * err^(-1/5), MIN, MAX).
SAFETY = 0.9
FACTOR_MIN = 0.2
FACTOR_MAX = 5.0
ERROR_EXPONENT = -0.2
# The smallest step is this many float64 spacings of the current time (or an absolute floor).
STEP_UNDERFLOW_ULPS = 64.0
STEP_UNDERFLOW_ABSOLUTE_MIN = 1e-9


def _core_template(
    y0,
    seg_t0,
    seg_t1,
    seg_drivers,
    seg_jumps,
    seg_resets,
    shared_params,
    t_out,
    rtol,
    atol,
    n_controlled,
    h_init,
    h_max,
    max_steps,
    y_out,
    out_segment,
    y_final,
    stats,
):
    # Writes outputs into y_out/out_segment, the final state into y_final and work counters into stats
    # (caller-allocated, so the single and ensemble drivers share this loop); returns
    # (status, t_final, outputs written, next step size).
    n = y0.shape[0]
    n_out = t_out.shape[0]
    n_seg = seg_t0.shape[0]
    # The state and the counters live in private memory during the loop and are written out once at
    # the end: in the ensemble, neighbouring patients' rows of y_final and stats share cache lines, and
    # updating them every step from different threads would make those lines bounce between cores.
    y = y0.copy()
    n_rhs = 0
    n_accepted = 0
    n_rejected = 0
    # private copies of the arrays handed to rhs, for the same reason (their reference counts)
    params = shared_params.copy()
    drv = np.empty(seg_drivers.shape[1])
    # zeroed, so a derivative a right-hand side leaves unwritten is 0, never stale memory
    k1 = np.zeros(n)
    k2 = np.zeros(n)
    k3 = np.zeros(n)
    k4 = np.zeros(n)
    k5 = np.zeros(n)
    k6 = np.zeros(n)
    k7 = np.zeros(n)
    stage = y0.copy()  # quadrature entries stay at their start: the right-hand side never reads them
    y_new = np.empty(n)
    r2 = np.empty(n)  # dense-output coefficients of the last accepted step
    r3 = np.empty(n)
    r4 = np.empty(n)
    r5 = np.empty(n)
    status = STATUS_OK
    t = seg_t0[0] if n_seg > 0 else 0.0
    h = h_init
    j = 0
    steps = 0
    eps = np.finfo(np.float64).eps

    for s in range(n_seg):
        t = seg_t0[s]
        t_end = seg_t1[s]
        for i in range(drv.shape[0]):
            drv[i] = seg_drivers[s, i]
        # outputs at the segment start see the state before this segment's jump
        while j < n_out and t_out[j] <= t:
            y_out[j, :] = y
            out_segment[j] = s - 1 if s > 0 else 0
            j += 1
        for i in range(n):
            if seg_resets[s, i]:  # a state set at the event (e.g. since the meal began)
                y[i] = 0.0
            y[i] += seg_jumps[s, i]
        rhs(t, y, drv, params, k1)
        n_rhs += 1
        while t < t_end:
            # outputs never cut a step (dense output): only the segment end does
            t_stop = t_end
            h_step = min(h, h_max)
            lands = h_step >= t_stop - t
            if lands:
                h_step = t_stop - t
            h_min = max(STEP_UNDERFLOW_ABSOLUTE_MIN, STEP_UNDERFLOW_ULPS * eps * abs(t))
            if h_step < h_min and not lands:
                status = STATUS_STEP_UNDERFLOW
                break
            steps += 1
            if steps > max_steps:
                status = STATUS_TOO_MANY_STEPS
                break

            # stages only for the states the right-hand side reads: quadratures never feed back (rule 5)
            for i in range(n_controlled):
                stage[i] = y[i] + h_step * A21 * k1[i]
            rhs(t + C2 * h_step, stage, drv, params, k2)
            for i in range(n_controlled):
                stage[i] = y[i] + h_step * (A31 * k1[i] + A32 * k2[i])
            rhs(t + C3 * h_step, stage, drv, params, k3)
            for i in range(n_controlled):
                stage[i] = y[i] + h_step * (A41 * k1[i] + A42 * k2[i] + A43 * k3[i])
            rhs(t + C4 * h_step, stage, drv, params, k4)
            for i in range(n_controlled):
                stage[i] = y[i] + h_step * (A51 * k1[i] + A52 * k2[i] + A53 * k3[i] + A54 * k4[i])
            rhs(t + C5 * h_step, stage, drv, params, k5)
            for i in range(n_controlled):
                stage[i] = y[i] + h_step * (A61 * k1[i] + A62 * k2[i] + A63 * k3[i] + A64 * k4[i] + A65 * k5[i])
            rhs(t + h_step, stage, drv, params, k6)
            for i in range(n):
                y_new[i] = y[i] + h_step * (A71 * k1[i] + A73 * k3[i] + A74 * k4[i] + A75 * k5[i] + A76 * k6[i])
            rhs(t + h_step, y_new, drv, params, k7)
            n_rhs += 6

            err_sum = 0.0
            for i in range(n_controlled):
                e = h_step * (E1 * k1[i] + E3 * k3[i] + E4 * k4[i] + E5 * k5[i] + E6 * k6[i] + E7 * k7[i])
                scale = atol[i] + rtol * max(abs(y[i]), abs(y_new[i]))
                err_sum += (e / scale) ** 2
            err = np.sqrt(err_sum / n_controlled)
            finite = np.isfinite(err)
            if finite:
                for i in range(n):
                    if not np.isfinite(y_new[i]):
                        finite = False
                        break

            if finite and err <= 1.0:
                n_accepted += 1
                t_old = t
                t = t_stop if lands else t + h_step
                if j < n_out and t_out[j] < t:
                    # outputs strictly inside the step: the continuous extension, built once per step
                    for i in range(n):
                        y_diff = y_new[i] - y[i]
                        b_spline = h_step * k1[i] - y_diff
                        r2[i] = y_diff
                        r3[i] = b_spline
                        r4[i] = y_diff - h_step * k7[i] - b_spline
                        r5[i] = h_step * (D1 * k1[i] + D3 * k3[i] + D4 * k4[i] + D5 * k5[i] + D6 * k6[i] + D7 * k7[i])
                    while j < n_out and t_out[j] < t:
                        theta = (t_out[j] - t_old) / h_step
                        theta1 = 1.0 - theta
                        for i in range(n):
                            y_out[j, i] = y[i] + theta * (r2[i] + theta1 * (r3[i] + theta * (r4[i] + theta1 * r5[i])))
                        out_segment[j] = s
                        j += 1
                for i in range(n):
                    y[i] = y_new[i]
                    k1[i] = k7[i]  # first same as last
                factor = FACTOR_MAX if err == 0.0 else min(FACTOR_MAX, max(FACTOR_MIN, SAFETY * err**ERROR_EXPONENT))
                h_proposed = h_step * factor
                # a step shortened to land on a segment end says little about the natural step
                h = max(h, h_proposed) if lands else h_proposed
                if j < n_out and t == t_out[j]:
                    y_out[j, :] = y
                    out_segment[j] = s
                    j += 1
            else:
                n_rejected += 1
                if finite:
                    h = h_step * max(FACTOR_MIN, SAFETY * err**ERROR_EXPONENT)
                else:
                    h = h_step * FACTOR_MIN
                if h < h_min:
                    status = STATUS_STEP_UNDERFLOW if finite else STATUS_NON_FINITE
                    break
        if status != STATUS_OK:
            break

    if status == STATUS_OK:
        # outputs at the very end of the schedule
        while j < n_out and t_out[j] <= t:
            y_out[j, :] = y
            out_segment[j] = n_seg - 1
            j += 1
    for i in range(n):
        y_final[i] = y[i]
    stats[0] += n_rhs
    stats[1] += n_accepted
    stats[2] += n_rejected
    return status, t, j, h


def _integrate_template(
    y0,
    seg_t0,
    seg_t1,
    seg_drivers,
    seg_jumps,
    seg_resets,
    params,
    t_out,
    rtol,
    atol,
    n_controlled,
    h_init,
    h_max,
    max_steps,
):
    n_out = t_out.shape[0]
    y_out = np.empty((n_out, y0.shape[0]))
    out_segment = np.empty(n_out, dtype=np.int64)
    y = np.empty(y0.shape[0])
    stats = np.zeros(N_COUNTERS, dtype=np.int64)
    status, t, written, h = core(
        y0,
        seg_t0,
        seg_t1,
        seg_drivers,
        seg_jumps,
        seg_resets,
        params,
        t_out,
        rtol,
        atol,
        n_controlled,
        h_init,
        h_max,
        max_steps,
        y_out,
        out_segment,
        y,
        stats,
    )
    return y_out, out_segment, y, status, t, stats, written, h


def _ensemble_template(
    y0,
    seg_t0,
    seg_t1,
    seg_drivers,
    seg_jumps,
    seg_resets,
    params,
    t_out,
    rtol,
    atol,
    n_controlled,
    h_init,
    h_max,
    max_steps,
):
    # one patient per row of y0 and params, all on the same schedule; patients are independent,
    # so prange splits them over cores with no shared writes
    n_patients, n = y0.shape
    n_out = t_out.shape[0]
    y_out = np.empty((n_patients, n_out, n))
    out_segment = np.empty((n_patients, n_out), dtype=np.int64)
    y_final = np.empty((n_patients, n))
    stats = np.zeros((n_patients, N_COUNTERS), dtype=np.int64)
    status = np.empty(n_patients, dtype=np.int64)
    t_final = np.empty(n_patients)
    written = np.empty(n_patients, dtype=np.int64)
    for k in numba.prange(n_patients):
        status[k], t_final[k], written[k], _ = core(
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
            n_controlled,
            h_init,
            h_max,
            max_steps,
            y_out[k],
            out_segment[k],
            y_final[k],
            stats[k],
        )
    return y_out, out_segment, y_final, status, t_final, stats, written


def _bind(template, globals_: dict, name: str, parallel: bool = False):
    namespace = dict(template.__globals__)
    namespace.update(globals_)
    function = types.FunctionType(template.__code__, namespace, name)
    function.__qualname__ = name
    return numba.njit(cache=True, error_model="numpy", parallel=parallel)(function)


def _bound_core(rhs, name: str):
    return _bind(_core_template, {"rhs": rhs}, f"{name}_core")


def bind_integrator(rhs, name: str):
    """Compile (and cache on disk) the integrator for one right-hand side.

    Args:
        rhs: a numba-compiled function meeting the contract in ``glucosim.solver``.
        name: a unique name for the cache entry; include a hash of the model's
            sources so an edited model is never served from a stale cache.

    Returns:
        A compiled function ``f(y0, seg_t0, seg_t1, seg_drivers, seg_jumps,
        seg_resets, params, t_out, rtol, atol, n_controlled, h_init, h_max, max_steps)``
        returning ``(y_out, out_segment, y_final, status, t_final, stats,
        n_written, h_next)``; ``h_next`` is the step size to continue with
        (passing it as ``h_init`` of the next call makes a split run take the
        same steps as an unsplit one). Times in the model's unit (minutes for
        glucosim).
    """
    return _bind(_integrate_template, {"core": _bound_core(rhs, name)}, name)


def bind_ensemble(rhs, name: str):
    """Compile (and cache on disk) the parallel ensemble integrator for one right-hand side.

    The same step loop as ``bind_integrator``'s, run for each row of ``y0``
    (patients x states) and ``params`` (patients x parameters) over one shared
    schedule, patients spread over cores with ``numba.prange``.

    Returns:
        A compiled function with ``bind_integrator``'s arguments (``y0`` and
        ``params`` 2-D) returning ``(y_out[patient, output, state],
        out_segment[patient, output], y_final[patient, state], status[patient],
        t_final[patient], stats[patient, counter], n_written[patient])``.
    """
    return _bind(_ensemble_template, {"core": _bound_core(rhs, name)}, f"{name}_ensemble", parallel=True)


DOPRI5 = register(
    Method(
        name="dopri5",
        summary="Dormand-Prince 5(4), explicit, dense output of order 4 (Hairer's DOPRI5)",
        order=5,
        bind=bind_integrator,
        bind_ensemble=bind_ensemble,
        source=Path(__file__).resolve(),
    )
)
