"""ROS34PW2 (``solver.rosw``): its coefficients, W-method order with a stale Jacobian, no stability cap on a stiff
problem, its work counters, and agreement with dopri5 on the organ model.

The contract rules every registered method meets (dense output, continuation, status codes, ensemble) are
tested for it in tests/test_solver.py (``METHODS``)."""

import dataclasses

import numpy as np
import pytest

from glucosim.physiology.indices import FIRST_QUADRATURE, STATE_NAMES
from glucosim.scenario.compile import ScenarioProgram
from glucosim.simulation.initial_state import initial_state
from glucosim.simulation.organ import default_tolerances, organ_integrator
from glucosim.solver import get_method, rosw
from glucosim.solver.segments import Schedule, Tolerances, integrate_schedule
from tests._solver_problems import LINEAR, NONLINEAR, PROTHERO_ROBINSON, bound, problem_params

STIFF_RATE = 1.0e4
"""Prothero-Robinson's decay rate (per minute): an explicit method's step is capped near 3.3 / STIFF_RATE."""


def _one_segment(length, rate, n_states):
    return Schedule(np.array([0.0]), np.array([length]), np.array([[rate]]), np.zeros((1, n_states)))


def _run(integrator, problem, schedule, y0, t_out, tolerances):
    names = [f"s{i}" for i in range(len(y0))]
    return integrate_schedule(
        integrator, schedule, np.asarray(y0, float), problem_params(problem), t_out, tolerances, names
    )


def test_coefficients_meet_the_order_conditions():
    """Rosenbrock order conditions up to 3 for b (2 for b-hat) (Hairer & Wanner II, Table 7.1), the W-conditions
    of order 3 that hold for any matrix A, and the dense output ending on b: the tableau as copied is ROS34PW2."""
    alpha, gamma_matrix, b, b_hat = rosw._ALPHA, rosw._GAMMA, rosw._B, rosw._B_HAT
    gamma = rosw.GAMMA
    beta = alpha + gamma_matrix - np.diag(np.diag(gamma_matrix))
    alpha_sum, beta_sum = alpha.sum(axis=1), beta.sum(axis=1)
    gamma_off = gamma_matrix - np.diag(np.diag(gamma_matrix))
    gamma_sum = gamma_off.sum(axis=1)
    for weights in (b, b_hat):
        assert weights.sum() == pytest.approx(1.0, abs=1e-14)
        assert weights @ beta_sum == pytest.approx(0.5 - gamma, abs=1e-14)
    assert b @ alpha_sum**2 == pytest.approx(1.0 / 3.0, abs=1e-14)
    assert b @ beta @ beta_sum == pytest.approx(1.0 / 6.0 - gamma + gamma**2, abs=1e-14)
    assert abs(b_hat @ alpha_sum**2 - 1.0 / 3.0) > 1e-2  # the embedded solution is of order 2 only
    # order-3 W-conditions (A arbitrary: the alpha and gamma trees separately)
    assert b @ alpha @ alpha_sum == pytest.approx(1.0 / 6.0, abs=1e-14)
    assert b @ gamma_sum == pytest.approx(-gamma, abs=1e-14)
    assert b @ alpha @ gamma_sum == pytest.approx(-gamma / 2.0, abs=1e-14)
    assert b @ gamma_off @ alpha_sum == pytest.approx(-gamma / 2.0, abs=1e-14)
    assert b @ gamma_off @ gamma_sum == pytest.approx(gamma**2, abs=1e-14)
    # stiffly accurate: b is the last row of alpha + Gamma; the dense output is b at theta = 1
    np.testing.assert_allclose(b, (alpha + gamma_matrix)[-1], atol=1e-15)
    np.testing.assert_allclose(rosw._B_INTERP.sum(axis=1), b, atol=1e-14)
    assert get_method("ros34pw2").order == 3


def test_linear_solve_with_pivoting_matches_numpy():
    """The stiff block's LU (partial pivoting) and solve on matrices that need row swaps at later columns, and
    on a subset of a longer vector (the stiff states), against numpy; entries outside the subset stay."""
    rng = np.random.default_rng(12)
    for size in (1, 2, 5, 15):
        for _ in range(20):
            matrix = rng.normal(size=(size, size))
            matrix[0, 0] = 1e-3  # forces a swap at the first column; random entries force later ones
            lu = np.zeros((20, 20))
            lu[:size, :size] = matrix
            piv = np.zeros(20, dtype=np.int64)
            rosw.lu_factor(lu, piv, size)
            stiff = np.sort(rng.choice(30, size=size, replace=False)).astype(np.int64)
            u = rng.normal(size=30)
            expected = u.copy()
            expected[stiff] = np.linalg.solve(matrix, u[stiff])
            rosw.solve_stiff(lu, piv, stiff, size, u, np.empty(20))
            np.testing.assert_allclose(u, expected, rtol=1e-9, atol=1e-12)


def _linear_exact(k, t):
    share = 1.0 / (k - 0.5)  # from y0(0) = y1(0) = 1
    return np.array([(1.0 - share) * np.exp(-k * t) + share * np.exp(-0.5 * t), np.exp(-0.5 * t)])


@pytest.mark.parametrize("rate", [200.0, 1000.0])
def test_third_order_on_a_stiff_linear_problem_with_an_inexact_jacobian(rate):
    """Fixed steps h, h/2, h/4 (controller inactive; h rate = 4, 2, 1, so the fast state is in the implicit
    block): the error falls by ~2^3 per halving. The matrix the method uses is not the Jacobian: only the stiff
    block (-k) is kept and the coupling to the slow state is left out, which costs a Rosenbrock method its order
    but not a W-method. One Jacobian serves ``JACOBIAN_MAX_AGE`` steps."""
    ours = bound("ros34pw2")  # tests/_solver_problems.py: LINEAR
    schedule = _one_segment(4.0, rate, 2)
    t_out = np.array([0.5, 4.0])  # after the fast transient has died away
    expected = np.array([_linear_exact(rate, t) for t in t_out])
    errors = []
    for h in np.array([4.0, 2.0, 1.0]) / rate:
        fixed = Tolerances(rtol=1e3, atol=np.full(2, 1e3), n_controlled=2, h_init=h, h_max=h)
        result = _run(ours, LINEAR, schedule, [1.0, 1.0], t_out, fixed)
        # at the segment's start, then every JACOBIAN_MAX_AGE steps
        assert result.stats.jacobian_evaluations == -(-result.stats.accepted_steps // rosw.JACOBIAN_MAX_AGE)
        errors.append(np.max(np.abs(result.y - expected)))
    measured = np.log2(np.array(errors[:-1]) / np.array(errors[1:]))
    assert np.all((2.7 < measured) & (measured < 3.4)), errors


def test_no_stability_cap_on_a_stiff_problem():
    """Prothero-Robinson with k = 1e4 per minute over 10 minutes: dopri5's step is capped near 3.3e-4 min
    (tens of thousands of steps) while ros34pw2 takes the steps the smooth solution allows, to the tolerance."""
    ours = bound("ros34pw2")  # tests/_solver_problems.py: PROTHERO_ROBINSON
    explicit = bound("dopri5")
    schedule = _one_segment(10.0, STIFF_RATE, 2)
    t_out = np.linspace(0.0, 10.0, 21)
    tolerances = Tolerances(rtol=1e-6, atol=np.full(2, 1e-9), n_controlled=2, h_max=10.0)
    implicit_run = _run(ours, PROTHERO_ROBINSON, schedule, [1.0, 0.0], t_out, tolerances)
    explicit_run = _run(explicit, PROTHERO_ROBINSON, schedule, [1.0, 0.0], t_out, tolerances)
    assert explicit_run.stats.accepted_steps > 10_000
    assert implicit_run.stats.accepted_steps < explicit_run.stats.accepted_steps / 50
    np.testing.assert_allclose(implicit_run.y[:, 0], np.cos(t_out), rtol=0, atol=1e-5)
    np.testing.assert_allclose(implicit_run.y[:, 1], np.sin(t_out), rtol=0, atol=1e-5)
    assert implicit_run.stats.factorizations >= 1


def test_counters_count_jacobians_and_factorisations():
    """Rule 8: each Jacobian costs one evaluation per controlled state (counted among the evaluations); each
    step attempt 3 evaluations and each accepted step that does not end its segment 1 more (f at the new point);
    a segment start 1; the factorisations lie between 1 and the attempts."""
    ours = bound("ros34pw2")  # tests/_solver_problems.py: NONLINEAR
    schedule = Schedule(np.array([0.0, 2.0]), np.array([2.0, 4.0]), np.array([[50.0], [80.0]]), np.zeros((2, 3)))
    tolerances = Tolerances(rtol=1e-6, atol=np.full(3, 1e-9), n_controlled=2, h_max=1.0)
    stats = _run(ours, NONLINEAR, schedule, [1.0, 0.8, 0.0], np.array([4.0]), tolerances).stats
    attempts = stats.accepted_steps + stats.rejected_steps
    n_segments, n_controlled = 2, 2
    assert stats.jacobian_evaluations >= n_segments  # at least one at each segment start
    expected = (
        n_segments + 3 * attempts + (stats.accepted_steps - n_segments) + n_controlled * stats.jacobian_evaluations
    )
    assert stats.rhs_evaluations == expected
    assert 1 <= stats.factorizations <= attempts


@pytest.mark.slow  # compiles the organ model's ros34pw2 integrator (about a minute when numba's cache is cold)
def test_organ_model_day_agrees_with_dopri5_and_is_recorded(make_scenario):
    """On a meal-and-exercise day ros34pw2 agrees with dopri5 at rtol 1e-11 (largest error of any dynamic state,
    every 30 minutes, relative to the state's range), within 1e-5 at the default tolerance and falling with the
    tolerance, and
    simulate(..., method="ros34pw2") records the method and its Jacobians in the provenance."""
    import glucosim
    from tests.test_solver import MEAL_EXERCISE_DAY

    loaded = make_scenario(routine=MEAL_EXERCISE_DAY)
    program = ScenarioProgram(loaded)
    y0 = initial_state(program)
    schedule = program.schedule(0, 1)
    t_out = np.arange(0.0, 1441.0, 30.0)
    n = int(FIRST_QUADRATURE)

    def run(method, tolerances):
        return integrate_schedule(
            organ_integrator(method), schedule, y0, program.parameters, t_out, tolerances, STATE_NAMES
        )

    def tolerances(rtol):  # absolute tolerances scaled with rtol, so they do not cap the accuracy
        default = default_tolerances(rtol)
        return dataclasses.replace(default, atol=default.atol * rtol / default_tolerances().rtol)

    reference = run("dopri5", tolerances(1e-11)).y[:, :n]

    def largest_error(tolerance):
        # per state: largest difference over the day / largest reference value (states staying ~0 skipped)
        scale = np.max(np.abs(reference), axis=0)
        active = scale > 1e-9
        ours = run("ros34pw2", tolerance).y[:, :n]
        return float(np.max(np.max(np.abs(ours - reference), axis=0)[active] / scale[active]))

    # measured 2026-12-02: 2.5e-6 at the default tolerance (dopri5 1.9e-5) and 3.3e-9 at 1e-9
    loose, tight = largest_error(default_tolerances()), largest_error(tolerances(1e-9))
    assert loose < 1e-5, loose
    assert tight < 1e-7 and tight < loose / 100.0, (tight, loose)
    result = glucosim.simulate(loaded, progress=False, method="ros34pw2", until_day=1)
    solver = result.summary["provenance"]["solver"]
    assert solver["method"] == "ros34pw2"
    assert solver["jacobian_evaluations"] > 0 and solver["factorizations"] > 0
