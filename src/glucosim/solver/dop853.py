"""Hairer's DOP853: explicit Runge-Kutta 8(5,3) with step-size control and 7th-order dense output (method ``"dop853"``).

It meets the solver contract (``glucosim.solver.contract``) like ``dopri5``, over the same schedule of
constant-driver segments: it steps exactly to every segment end, applies the next segment's state jump
and goes on. Per step it evaluates the right-hand side 12 times (the 13th, at the new point, is the next
step's first: "first same as last"); a step with an output strictly inside it evaluates 3 more for the
continuous extension (Hairer, Norsett & Wanner, Solving ODEs I, II.10; dop853.f's ``contd8``), so dense
output costs evaluations here, unlike dopri5's, but never changes the steps taken (rule 4).

Error control (rule 5) is dop853.f's: the 5th-order estimate, damped by the 3rd-order one,
``err = h |e5|^2 / sqrt(n (|e5|^2 + 0.01 |e3|^2))`` in the weighted norm, with Hairer's controller
(exponent 1/8, factors 1/3 to 6, no growth right after a rejection).

Coefficients: ``solver._dop853_tableau``. The compiled loops that turn a core into an integrator
(single, and the parallel ensemble) are dopri5's templates bound to this core.
"""

import hashlib
from pathlib import Path

import numpy as np

from glucosim.solver import _dop853_tableau
from glucosim.solver._dop853_tableau import E3, E5, N_STAGES, N_STAGES_EXTENDED, A, B, C, D
from glucosim.solver.contract import (
    STATUS_NON_FINITE,
    STATUS_OK,
    STATUS_STEP_UNDERFLOW,
    STATUS_TOO_MANY_STEPS,
    Method,
    register,
)
from glucosim.solver.dopri5 import (
    STEP_UNDERFLOW_ABSOLUTE_MIN,
    STEP_UNDERFLOW_ULPS,
    _bind,
    _ensemble_template,
    _integrate_template,
)

# Step controller (dop853.f's defaults): h_new = h * clip(SAFETY * err^(-1/8), FACTOR_MIN, FACTOR_MAX).
SAFETY = 0.9
FACTOR_MIN = 1.0 / 3.0
FACTOR_MAX = 6.0
ERROR_EXPONENT = -1.0 / 8.0
E3_WEIGHT = 0.01
"""Weight of the 3rd-order estimate in the error norm's denominator (dop853.f)."""

_TABLEAU_PATH = Path(_dop853_tableau.__file__)
_NEW = N_STAGES  # row of K holding the derivative at the new point (first same as last)


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
    # dopri5's core's contract and layout (see there for why state and counters are private); returns
    # (status, t_final, outputs written, next step size)
    n = y0.shape[0]
    n_out = t_out.shape[0]
    n_seg = seg_t0.shape[0]
    y = y0.copy()
    n_rhs = 0
    n_accepted = 0
    n_rejected = 0
    params = shared_params.copy()
    drv = np.empty(seg_drivers.shape[1])
    # stage derivatives: 12 stages, the new point's, 3 for the dense output; zeroed (a derivative the
    # right-hand side leaves unwritten is 0, never stale memory)
    k = np.zeros((N_STAGES_EXTENDED, n))
    stage = y0.copy()  # quadrature entries stay at their start: the right-hand side never reads them
    y_new = np.empty(n)
    increment = np.empty(n)
    dense = np.empty((7, n))  # dense-output coefficients of the last accepted step
    status = STATUS_OK
    t = seg_t0[0] if n_seg > 0 else 0.0
    h = h_init
    j = 0
    steps = 0
    last_rejected = False
    eps = np.finfo(np.float64).eps

    for s in range(n_seg):
        t = seg_t0[s]
        t_end = seg_t1[s]
        for i in range(drv.shape[0]):
            drv[i] = seg_drivers[s, i]
        while j < n_out and t_out[j] <= t:
            y_out[j, :] = y
            out_segment[j] = s - 1 if s > 0 else 0
            j += 1
        for i in range(n):
            if seg_resets[s, i]:  # a state set at the event (e.g. since the meal began)
                y[i] = 0.0
            y[i] += seg_jumps[s, i]
        rhs(t, y, drv, params, k[0])  # noqa: F821 (bound by _bound_core)
        n_rhs += 1
        while t < t_end:
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
            for r in range(1, N_STAGES):
                for i in range(n_controlled):
                    increment[i] = 0.0
                for m in range(r):
                    a = A[r, m]
                    if a != 0.0:
                        for i in range(n_controlled):
                            increment[i] += a * k[m, i]
                for i in range(n_controlled):
                    stage[i] = y[i] + h_step * increment[i]
                rhs(t + C[r] * h_step, stage, drv, params, k[r])  # noqa: F821 (bound by _bound_core)
            for i in range(n):
                increment[i] = 0.0
            for m in range(N_STAGES):
                b = B[m]
                if b != 0.0:
                    for i in range(n):
                        increment[i] += b * k[m, i]
            for i in range(n):
                y_new[i] = y[i] + h_step * increment[i]
            rhs(t + h_step, y_new, drv, params, k[_NEW])  # noqa: F821 (bound by _bound_core)
            n_rhs += N_STAGES

            err5 = 0.0
            err3 = 0.0
            for i in range(n_controlled):
                scale = atol[i] + rtol * max(abs(y[i]), abs(y_new[i]))
                e5 = 0.0
                e3 = 0.0
                for m in range(N_STAGES + 1):
                    e5 += E5[m] * k[m, i]
                    e3 += E3[m] * k[m, i]
                err5 += (e5 / scale) ** 2
                err3 += (e3 / scale) ** 2
            denominator = err5 + E3_WEIGHT * err3
            err = 0.0 if denominator == 0.0 else h_step * err5 / np.sqrt(denominator * n_controlled)
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
                    # outputs strictly inside the step: three more stages, then the continuous extension
                    for r in range(N_STAGES + 1, N_STAGES_EXTENDED):
                        for i in range(n_controlled):
                            increment[i] = 0.0
                        for m in range(r):
                            a = A[r, m]
                            if a != 0.0:
                                for i in range(n_controlled):
                                    increment[i] += a * k[m, i]
                        for i in range(n_controlled):
                            stage[i] = y[i] + h_step * increment[i]
                        rhs(t_old + C[r] * h_step, stage, drv, params, k[r])  # noqa: F821 (bound by _bound_core)
                    n_rhs += N_STAGES_EXTENDED - N_STAGES - 1
                    for i in range(n):
                        y_diff = y_new[i] - y[i]
                        dense[0, i] = y_diff
                        dense[1, i] = h_step * k[0, i] - y_diff
                        dense[2, i] = 2.0 * y_diff - h_step * (k[_NEW, i] + k[0, i])
                        for row in range(4):
                            total = 0.0
                            for m in range(N_STAGES_EXTENDED):
                                total += D[row, m] * k[m, i]
                            dense[3 + row, i] = h_step * total
                    while j < n_out and t_out[j] < t:
                        x = (t_out[j] - t_old) / h_step
                        x1 = 1.0 - x
                        for i in range(n):
                            value = dense[6, i]
                            value = dense[5, i] + x * value
                            value = dense[4, i] + x1 * value
                            value = dense[3, i] + x * value
                            value = dense[2, i] + x1 * value
                            value = dense[1, i] + x * value
                            value = dense[0, i] + x1 * value
                            y_out[j, i] = y[i] + x * value
                        out_segment[j] = s
                        j += 1
                for i in range(n):
                    y[i] = y_new[i]
                    k[0, i] = k[_NEW, i]  # first same as last
                factor = FACTOR_MAX if err == 0.0 else min(FACTOR_MAX, max(FACTOR_MIN, SAFETY * err**ERROR_EXPONENT))
                if last_rejected and factor > 1.0:
                    factor = 1.0  # no growth right after a rejection (dop853.f)
                last_rejected = False
                h_proposed = h_step * factor
                # a step shortened to land on a segment end says little about the natural step
                h = max(h, h_proposed) if lands else h_proposed
                if j < n_out and t == t_out[j]:
                    y_out[j, :] = y
                    out_segment[j] = s
                    j += 1
            else:
                n_rejected += 1
                last_rejected = True
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


_SOURCE_TAG = hashlib.sha256(Path(__file__).read_bytes() + _TABLEAU_PATH.read_bytes()).hexdigest()[:12]
"""Part of every cache name: the single and ensemble drivers are dopri5.py's templates, whose cached machine
code embeds this core; numba checks only the driver's own file, so without the tag an edit here (or to the
tableau) would leave the drivers' cache serving the old core."""


def _bound_core(rhs, name: str):
    return _bind(_core_template, {"rhs": rhs}, f"{name}_core")


def bind_integrator(rhs, name: str):
    """Compile (and cache on disk) the DOP853 integrator for one right-hand side (``dopri5.bind_integrator``'s
    arguments and returns)."""
    name = f"{name}_{_SOURCE_TAG}"
    return _bind(_integrate_template, {"core": _bound_core(rhs, name)}, name)


def bind_ensemble(rhs, name: str):
    """Compile (and cache on disk) the parallel DOP853 ensemble integrator (``dopri5.bind_ensemble``'s
    arguments and returns)."""
    name = f"{name}_{_SOURCE_TAG}"
    return _bind(_ensemble_template, {"core": _bound_core(rhs, name)}, f"{name}_ensemble", parallel=True)


DOP853 = register(
    Method(
        name="dop853",
        summary="Hairer's DOP853, explicit Runge-Kutta 8(5,3), dense output of order 7 (3 more evaluations a step)",
        order=8,
        bind=bind_integrator,
        bind_ensemble=bind_ensemble,
        source=Path(__file__).resolve(),
    )
)
