"""ROS34PW2, a linearly implicit Rosenbrock-W method of order 3(2), over the same schedule (method ``"ros34pw2"``).

It meets the solver contract (``glucosim.solver.contract``) like ``dopri5``: it steps exactly to every
segment end, applies the next segment's state jump and goes on; outputs inside a step come from a
3rd-order continuous extension built from the stage increments (no extra right-hand-side evaluations).

**Why a W-method.** An explicit method's step is capped by the fastest decaying modes (on the organ model
the liver-plasma insulin exchange, exercise VO2 and portal insulin, -0.5 to -0.9/min: about 3.7 min),
even where the solution is smooth and the tolerance loose. A Rosenbrock method solves one linear system
with ``W = I - h gamma A`` per stage instead of iterating Newton; a *W*-method keeps its order for any
matrix ``A``, not only the exact Jacobian (Steihaug & Wolfbrandt 1979; Hairer & Wanner, Solving ODEs II,
IV.7). So ``A`` here is a finite-difference Jacobian kept over many steps, and only its stiff block:

- ``A`` is the Jacobian restricted to the *stiff states*, those whose own decay rate ``|J_ii|`` is at least
  ``1 / h_max`` (every state that could not relax within the longest step allowed), rows and columns of
  the others zeroed. For those the method is explicit (a 4-stage order-3 Runge-Kutta method), which is
  stable as long as what remains of the Jacobian is slow against the step. On the organ model the stiff
  block is 14-15 of the 37 controlled states and the remainder's spectral radius about 0.008/min
  (``benchmarks/wmethod_probe.py``), so the linear algebra is a dense LU of a ~15 x 15 matrix.
- The Jacobian (forward differences, one evaluation per controlled state, counted among the right-hand-side
  evaluations) is taken at the start of each segment (a discontinuity; and so a run split at a segment
  boundary takes the same steps as an unsplit one, rule 6), every ``JACOBIAN_MAX_AGE`` accepted steps, and
  after a rejected step when it is older than ``JACOBIAN_REFRESH_AGE`` steps; ``W`` is factorised again
  whenever the step or the Jacobian changes. Quadratures (states from ``n_controlled`` on) are always
  explicit.

**Coefficients.** Rang & Angermann 2005 (BIT Numer Math 45:761), ROS34PW2: 4 stages, order 3 with an
embedded order-2 solution, L-stable, stiffly accurate, gamma = 0.4358665215084590. The alpha, gamma, b
and b-hat values and the order-3 interpolation weights (``binterpt``) are those PETSc registers as
``TSROSWRA34PW2`` (``src/ts/impls/rosw/rosw.c``); the same alpha/gamma/b/b-hat appear in ODE.jl's
``bt_ros34pw2``. Read from those codes (not from the paper itself); the order conditions up to 3 (and the
W-conditions of order 3 with a wrong ``A``) are checked numerically in tests/test_solver_rosw.py.
The method is implemented in Hairer & Wanner's transformed variables ``u_i = sum_j gamma_ij k_j``
(Solving ODEs II, IV.7, (7.25)): ``(I - h gamma A) u_i = gamma (h f(y + sum_j a_ij u_j) + sum_j c_ij u_j)``,
``y1 = y + sum_j m_j u_j``. Stages are evaluated at ``t + c_i h`` with no ``df/dt`` term: that is the
W-method on the autonomous form (time as a state) with ``A``'s time column zero, so the order stays 3 (the
organ model is autonomous within a segment anyway).
"""

import hashlib
from pathlib import Path

import numba
import numpy as np

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

# ROS34PW2 in Hairer & Wanner's form (PETSc TSROSWRA34PW2): alpha (strictly lower), Gamma (lower, diagonal gamma).
GAMMA = 4.3586652150845900e-01
_ALPHA = np.array(
    [
        [0.0, 0.0, 0.0, 0.0],
        [8.7173304301691801e-01, 0.0, 0.0, 0.0],
        [8.4457060015369423e-01, -1.1299064236484185e-01, 0.0, 0.0],
        [0.0, 0.0, 1.0, 0.0],
    ]
)
_GAMMA = np.array(
    [
        [GAMMA, 0.0, 0.0, 0.0],
        [-8.7173304301691801e-01, GAMMA, 0.0, 0.0],
        [-9.0338057013044082e-01, 5.4180672388095326e-02, GAMMA, 0.0],
        [2.4212380706095346e-01, -1.2232505839045147e00, 5.4526025533510214e-01, GAMMA],
    ]
)
_B = np.array([2.4212380706095346e-01, -1.2232505839045147e00, 1.5452602553351020e00, 4.3586652150845900e-01])
_B_HAT = np.array([3.7810903145819369e-01, -9.6042292212423178e-02, 5.0e-01, 2.1793326075422950e-01])
_B_INTERP = np.array(
    [
        [1.0564298455794094, -1.3864882699759573, 0.5721822314575016],
        [2.296429974281067, -8.262611700275677, 4.742931142090097],
        [-1.307599564525376, 7.250979895056055, -4.398120075195578],
        [-1.045260255335102, 2.398120075195581, -0.9169932983520199],
    ]
)
"""Order-3 dense output (PETSc's ``binterpt``): ``y(t0 + theta h) = y0 + sum_i sum_p B_INTERP[i, p] theta^(p+1) k_i``
in the untransformed increments ``k``; at theta = 1 it is ``b``."""

_GAMMA_INV = np.linalg.inv(_GAMMA)
# transformed coefficients (Hairer & Wanner II, IV.7 (7.25)): a = alpha Gamma^-1, c = diag(1/gamma) - Gamma^-1,
# m = b Gamma^-1, and the dense output's weights on the transformed increments u
_A_T = _ALPHA @ _GAMMA_INV
_C_T = np.diag(1.0 / np.diag(_GAMMA)) - _GAMMA_INV
_M = _B @ _GAMMA_INV
_M_ERR = (_B - _B_HAT) @ _GAMMA_INV
_D = _B_INTERP.T @ _GAMMA_INV  # _D[p, j]: weight of u_j at theta^(p+1)
A21 = _A_T[1, 0]
A31, A32 = _A_T[2, 0], _A_T[2, 1]
A41, A42, A43 = _A_T[3, 0], _A_T[3, 1], _A_T[3, 2]
C21 = _C_T[1, 0]
C31, C32 = _C_T[2, 0], _C_T[2, 1]
C41, C42, C43 = _C_T[3, 0], _C_T[3, 1], _C_T[3, 2]
M1, M2, M3, M4 = _M
E1, E2, E3, E4 = _M_ERR
D11, D12, D13, D14 = _D[0]
D21, D22, D23, D24 = _D[1]
D31, D32, D33, D34 = _D[2]

# Step controller: the error estimate is of order 2 (local error h^3).
SAFETY = 0.9
FACTOR_MIN = 0.2
FACTOR_MAX = 5.0
ERROR_EXPONENT = -1.0 / 3.0
JACOBIAN_MAX_AGE = 100
"""Accepted steps a Jacobian is kept at most (a W-method needs it for stability only, not for accuracy)."""
JACOBIAN_REFRESH_AGE = 0
"""After a rejected step, a Jacobian older than this many accepted steps is taken again (0: one that has served
any accepted step; a rejection with a fresh one is the tolerance's, not the matrix's)."""
STIFF_RATE_STEPS = 1.0
"""A state is in the implicit (stiff) block when its own rate |J_ii| is at least this many per ``h_max``."""
JACOBIAN_DELTA = 1.4901161193847656e-08
"""Relative forward-difference increment (the square root of float64's machine epsilon)."""


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
    # dopri5's core signature and returns (status, t_final, outputs written, next step size)
    n = y0.shape[0]
    nc = n_controlled
    n_out = t_out.shape[0]
    n_seg = seg_t0.shape[0]
    y = y0.copy()
    n_rhs = 0
    n_accepted = 0
    n_rejected = 0
    n_jac = 0
    n_lu = 0
    params = shared_params.copy()
    drv = np.empty(seg_drivers.shape[1])
    f0 = np.zeros(n)  # f at the step's start
    fs = np.zeros(n)  # f at a stage
    u1 = np.zeros(n)
    u2 = np.zeros(n)
    u3 = np.zeros(n)
    u4 = np.zeros(n)
    stage = y0.copy()
    y_new = np.empty(n)
    rhs_s = np.empty(nc)
    # the stiff block: its states, the Jacobian on it, and the LU of W = I - h gamma J_SS
    stiff = np.empty(nc, dtype=np.int64)
    n_stiff = 0
    jac_ss = np.zeros((nc, nc))
    lu = np.zeros((nc, nc))
    piv = np.zeros(nc, dtype=np.int64)
    column = np.empty(n)
    trial = np.empty(n)
    jac_age = 0
    jac_fresh = False  # a Jacobian of this segment exists
    h_lu = -1.0  # the step W was factorised for (negative: not factorised)
    just_rejected = False
    stiff_rate = STIFF_RATE_STEPS / h_max
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
        while j < n_out and t_out[j] <= t:
            y_out[j, :] = y
            out_segment[j] = s - 1 if s > 0 else 0
            j += 1
        for i in range(n):
            if seg_resets[s, i]:  # a state set at the event (e.g. since the meal began)
                y[i] = 0.0
            y[i] += seg_jumps[s, i]
        rhs(t, y, drv, params, f0)  # noqa: F821 (bound by _bound_core)
        n_rhs += 1
        # a segment start is a discontinuity (a meal's jump, exercise starting or ending): the Jacobian is taken
        # again there, so a run split at a segment boundary takes the same steps as an unsplit one (rule 6)
        jac_fresh = False
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

            if not jac_fresh:
                # forward-difference Jacobian of the controlled states at (t, y); f0 = f(t, y)
                for i in range(n):
                    trial[i] = y[i]
                n_stiff = 0
                for c in range(nc):
                    delta = JACOBIAN_DELTA * max(abs(y[c]), atol[c], 1.0e-8)  # never 0, even at atol 0
                    trial[c] = y[c] + delta
                    rhs(t, trial, drv, params, column)  # noqa: F821 (bound by _bound_core)
                    trial[c] = y[c]
                    diagonal = (column[c] - f0[c]) / delta
                    if abs(diagonal) >= stiff_rate:
                        stiff[n_stiff] = c
                        n_stiff += 1
                    # keep the whole column for now; the stiff rows are picked below
                    for r in range(nc):
                        lu[r, c] = (column[r] - f0[r]) / delta
                n_rhs += nc
                n_jac += 1
                for a in range(n_stiff):
                    for b in range(n_stiff):
                        jac_ss[a, b] = lu[stiff[a], stiff[b]]
                jac_fresh = True
                jac_age = 0
                h_lu = -1.0
            # W is factorised again whenever the step changes. (Keeping it while the step stays within 0.8-1.25
            # of the factorised one is legitimate for a W-method, A = (h_lu / h) J, and cut the factorisations
            # on the organ model's day 4x, but cost 16 % more evaluations there (more rejections, so more
            # Jacobians) and 1.6x the steps on Prothero-Robinson: the stiff components lose L-stability's damping.)
            if n_stiff > 0 and h_step != h_lu:
                hg = h_step * GAMMA
                for a in range(n_stiff):
                    for b in range(n_stiff):
                        lu[a, b] = -hg * jac_ss[a, b]
                    lu[a, a] += 1.0
                lu_factor(lu, piv, n_stiff)
                n_lu += 1
                h_lu = h_step

            # stage 1: u1 = W^-1 gamma h f(y)
            for i in range(n):
                u1[i] = GAMMA * h_step * f0[i]
            solve_stiff(lu, piv, stiff, n_stiff, u1, rhs_s)
            # stage 2
            for i in range(nc):
                stage[i] = y[i] + A21 * u1[i]
            rhs(t + h_step * 0.87173304301691801, stage, drv, params, fs)  # noqa: F821 (bound by _bound_core)
            for i in range(n):
                u2[i] = GAMMA * (h_step * fs[i] + C21 * u1[i])
            solve_stiff(lu, piv, stiff, n_stiff, u2, rhs_s)
            # stage 3
            for i in range(nc):
                stage[i] = y[i] + A31 * u1[i] + A32 * u2[i]
            rhs(t + h_step * 0.73157995778885238, stage, drv, params, fs)  # noqa: F821 (bound by _bound_core)
            for i in range(n):
                u3[i] = GAMMA * (h_step * fs[i] + C31 * u1[i] + C32 * u2[i])
            solve_stiff(lu, piv, stiff, n_stiff, u3, rhs_s)
            # stage 4
            for i in range(nc):
                stage[i] = y[i] + A41 * u1[i] + A42 * u2[i] + A43 * u3[i]
            rhs(t + h_step, stage, drv, params, fs)  # noqa: F821 (bound by _bound_core)
            for i in range(n):
                u4[i] = GAMMA * (h_step * fs[i] + C41 * u1[i] + C42 * u2[i] + C43 * u3[i])
            solve_stiff(lu, piv, stiff, n_stiff, u4, rhs_s)
            n_rhs += 3

            for i in range(n):
                y_new[i] = y[i] + M1 * u1[i] + M2 * u2[i] + M3 * u3[i] + M4 * u4[i]
            err_sum = 0.0
            for i in range(nc):
                e = E1 * u1[i] + E2 * u2[i] + E3 * u3[i] + E4 * u4[i]
                scale = atol[i] + rtol * max(abs(y[i]), abs(y_new[i]))
                err_sum += (e / scale) ** 2
            err = np.sqrt(err_sum / nc)
            finite = np.isfinite(err)
            if finite:
                for i in range(n):
                    if not np.isfinite(y_new[i]):
                        finite = False
                        break

            if finite and err <= 1.0:
                n_accepted += 1
                jac_age += 1
                t_old = t
                t = t_stop if lands else t + h_step
                while j < n_out and t_out[j] < t:
                    theta = (t_out[j] - t_old) / h_step
                    w1 = theta * (D11 + theta * (D21 + theta * D31))
                    w2 = theta * (D12 + theta * (D22 + theta * D32))
                    w3 = theta * (D13 + theta * (D23 + theta * D33))
                    w4 = theta * (D14 + theta * (D24 + theta * D34))
                    for i in range(n):
                        y_out[j, i] = y[i] + w1 * u1[i] + w2 * u2[i] + w3 * u3[i] + w4 * u4[i]
                    out_segment[j] = s
                    j += 1
                for i in range(n):
                    y[i] = y_new[i]
                if t < t_end:
                    rhs(t, y, drv, params, f0)  # noqa: F821 (bound by _bound_core)
                    n_rhs += 1
                factor = FACTOR_MAX if err == 0.0 else min(FACTOR_MAX, max(FACTOR_MIN, SAFETY * err**ERROR_EXPONENT))
                if just_rejected:
                    factor = min(factor, 1.0)  # no growth right after a rejection (Hairer & Wanner's ros4.f)
                just_rejected = False
                h_proposed = h_step * factor
                h = max(h, h_proposed) if lands else h_proposed
                if jac_age >= JACOBIAN_MAX_AGE:
                    jac_fresh = False
                if j < n_out and t == t_out[j]:
                    y_out[j, :] = y
                    out_segment[j] = s
                    j += 1
            else:
                n_rejected += 1
                just_rejected = True
                if finite:
                    h = h_step * max(FACTOR_MIN, SAFETY * err**ERROR_EXPONENT)
                else:
                    h = h_step * FACTOR_MIN
                if jac_age > JACOBIAN_REFRESH_AGE or not finite:
                    jac_fresh = False
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
    stats[3] += n_jac
    stats[4] += n_lu
    return status, t, j, h


@numba.njit(cache=True, error_model="numpy")
def lu_factor(lu, piv, n):
    """LU factorisation with partial pivoting of ``lu[:n, :n]`` in place (LINPACK's dgefa order: a row swap at
    step k touches columns k and later only, so ``solve_stiff`` applies the swaps as it eliminates); the row
    swapped with row k is ``piv[k]``. A zero pivot leaves its column (``W = I - h gamma A`` is regular for the
    steps taken)."""
    for k in range(n):
        p = k
        big = abs(lu[k, k])
        for a in range(k + 1, n):
            if abs(lu[a, k]) > big:
                big = abs(lu[a, k])
                p = a
        piv[k] = p
        if p != k:
            for b in range(k, n):
                tmp = lu[k, b]
                lu[k, b] = lu[p, b]
                lu[p, b] = tmp
        if lu[k, k] != 0.0:
            inv = 1.0 / lu[k, k]
            for a in range(k + 1, n):
                lu[a, k] *= inv
                factor = lu[a, k]
                if factor != 0.0:
                    for b in range(k + 1, n):
                        lu[a, b] -= factor * lu[k, b]


@numba.njit(cache=True, error_model="numpy")
def solve_stiff(lu, piv, stiff, n_stiff, u, work):
    """``u[stiff] <- W^-1 u[stiff]`` with ``lu_factor``'s factors of W (on the stiff block; other entries of
    ``u`` stay: W is the identity there)."""
    for a in range(n_stiff):
        work[a] = u[stiff[a]]
    for k in range(n_stiff):
        p = piv[k]
        if p != k:
            tmp = work[k]
            work[k] = work[p]
            work[p] = tmp
        value = work[k]
        for a in range(k + 1, n_stiff):
            work[a] -= lu[a, k] * value
    for k in range(n_stiff - 1, -1, -1):
        value = work[k]
        for b in range(k + 1, n_stiff):
            value -= lu[k, b] * work[b]
        work[k] = value / lu[k, k]
    for a in range(n_stiff):
        u[stiff[a]] = work[a]


_SOURCE_TAG = hashlib.sha256(Path(__file__).read_bytes()).hexdigest()[:12]
"""Part of every cache name: the single and ensemble drivers are dopri5.py's templates, whose cached machine
code embeds this core; without the tag an edit here would leave numba serving the old core from the drivers'
cache (numba checks the driver's own file only)."""


def _bound_core(rhs, name: str):
    return _bind(_core_template, {"rhs": rhs}, f"{name}_core")


def bind_integrator(rhs, name: str):
    """Compile (and cache on disk) the ROS34PW2 integrator for one right-hand side (``dopri5.bind_integrator``'s
    arguments and returns)."""
    name = f"{name}_{_SOURCE_TAG}"
    return _bind(_integrate_template, {"core": _bound_core(rhs, name)}, name)


def bind_ensemble(rhs, name: str):
    """Compile (and cache on disk) the parallel ROS34PW2 ensemble integrator (``dopri5.bind_ensemble``'s
    arguments and returns)."""
    name = f"{name}_{_SOURCE_TAG}"
    return _bind(_ensemble_template, {"core": _bound_core(rhs, name)}, f"{name}_ensemble", parallel=True)


ROS34PW2 = register(
    Method(
        name="ros34pw2",
        summary="Rang & Angermann's ROS34PW2, linearly implicit Rosenbrock-W 3(2), finite-difference Jacobian of "
        "the stiff block kept over many steps, dense output of order 3",
        order=3,
        bind=bind_integrator,
        bind_ensemble=bind_ensemble,
        source=Path(__file__).resolve(),
    )
)
