"""The numba DOPRI5 core: analytic problems, convergence order, failure reports, and scipy agreement."""

import dataclasses
import math

import numpy as np
import pytest

from glucosim.errors import SolverError
from glucosim.physiology.indices import FIRST_QUADRATURE, STATE_NAMES, Par, St
from glucosim.scenario.compile import ScenarioProgram
from glucosim.simulation.initial_state import initial_state
from glucosim.simulation.organ import default_tolerances, organ_ensemble, organ_integrator
from glucosim.solver.segments import Schedule, Tolerances, integrate_schedule
from tests._scipy_reference import solve_with_scipy
from tests._solver_problems import BLOW_UP, DECAY, NAME, bound, problem_params, problem_rhs

_decay = bound("dopri5")  # bind_integrator: get_method("dopri5").bind; the problem is chosen by params
_blow_up = _decay  # the same compiled integrator: its params (_BLOW_UP below) select the blow-up problem
_DECAY = problem_params(DECAY)
_BLOW_UP = problem_params(BLOW_UP)


def _schedule(rates, length=1.0, jumps=None):
    n = len(rates)
    t0 = np.arange(n) * length
    drivers = np.array(rates, dtype=float).reshape(n, 1)
    jumps = np.zeros((n, 2)) if jumps is None else np.asarray(jumps, dtype=float)
    return Schedule(t0, t0 + length, drivers, jumps)


def _tolerances(rtol, h_max=10.0):
    return Tolerances(rtol=rtol, atol=np.full(2, rtol * 1e-3), n_controlled=2, h_max=h_max)


def test_exponential_decay_across_segments_and_jumps():
    schedule = _schedule([1.0, 3.0], jumps=[[0.0, 0.0], [0.5, 0.0]])
    t_out = np.array([0.0, 0.5, 1.0, 1.5, 2.0])
    result = integrate_schedule(_decay, schedule, np.array([1.0, 0.0]), _DECAY, t_out, _tolerances(1e-10), ["a", "b"])
    after_jump = np.exp(-1.0) + 0.5
    expected = [1.0, np.exp(-0.5), np.exp(-1.0), after_jump * np.exp(-1.5), after_jump * np.exp(-3.0)]
    np.testing.assert_allclose(result.y[:, 0], expected, rtol=1e-8)
    np.testing.assert_allclose(result.y[:, 1], np.sin(t_out), atol=1e-9)
    # output exactly at a segment boundary sees the state before the jump
    assert result.y[2, 0] == pytest.approx(np.exp(-1.0), rel=1e-8)


@pytest.mark.parametrize("method", ["dopri5", "dop853", "ros34pw2", "scipy"])
def test_an_event_resets_then_jumps(method):
    """Rule 3: at a segment start the states marked in ``resets`` are set to 0, then the jump is added (a meal sets the
    glucose emptied since the latest meal began to 0 and adds its food); unmarked states only jump."""
    resets = np.array([[False, False], [True, False]])
    schedule = Schedule(
        np.array([0.0, 1.0]), np.array([1.0, 2.0]), np.array([[1.0], [3.0]]), np.array([[0.0, 0.0], [0.5, 0.0]]), resets
    )
    t_out = np.array([1.0, 2.0])
    if method == "scipy":  # the reference every accuracy test compares with applies the same event
        from glucosim.solver.scipy_backend import integrate_schedule_scipy

        y = integrate_schedule_scipy(
            problem_rhs, schedule, np.array([1.0, 0.0]), _DECAY, t_out, method="DOP853", rtol=1e-10, atol=1e-12
        )
    else:
        y = integrate_schedule(
            bound(method), schedule, np.array([1.0, 0.0]), _DECAY, t_out, _tolerances(1e-9), ["a", "b"]
        ).y
    np.testing.assert_allclose(y[:, 0], [np.exp(-1.0), 0.5 * np.exp(-3.0)], rtol=1e-6)
    np.testing.assert_allclose(y[:, 1], np.sin(t_out), atol=1e-7)  # the unmarked state carries on


def test_error_falls_at_fifth_order_with_fixed_steps():
    # with a loose tolerance the controller is inactive and h_max sets the step
    errors = []
    for h in (0.2, 0.1):
        result = integrate_schedule(
            _decay,
            _schedule([1.0], length=4.0),
            np.array([1.0, 0.0]),
            _DECAY,
            np.array([4.0]),
            Tolerances(rtol=1e3, atol=np.full(2, 1e3), n_controlled=2, h_init=h, h_max=h),
            ["a", "b"],
        )
        errors.append(abs(result.y[0, 0] - np.exp(-4.0)))
    order = np.log2(errors[0] / errors[1])
    assert 4.5 < order < 5.5


def test_tolerance_is_honoured():
    for rtol in (1e-5, 1e-8):
        result = integrate_schedule(
            _decay,
            _schedule([2.0], length=5.0),
            np.array([1.0, 0.0]),
            _DECAY,
            np.linspace(0, 5, 11),
            _tolerances(rtol),
            ["a", "b"],
        )
        error = np.max(np.abs(result.y[:, 0] - np.exp(-2.0 * np.linspace(0, 5, 11))))
        assert error < 50 * rtol


def test_blow_up_raises_with_time_and_state():
    # y' = y^2 from y(0) = 1 blows up at t = 1
    schedule = _schedule([0.0], length=2.0)
    with pytest.raises(SolverError) as info:
        integrate_schedule(
            _blow_up,
            schedule,
            np.array([1.0, 0.0]),
            _BLOW_UP,
            np.array([2.0]),
            Tolerances(rtol=1e-6, atol=np.full(2, 1e-9), n_controlled=1),
            ["x", "unused"],
        )
    error = info.value
    assert error.time_min == pytest.approx(1.0, abs=1e-3)
    assert "x=" in str(error) and "t = " in str(error)
    assert np.isfinite(error.state["x"])


def test_too_many_steps_raises():
    schedule = _schedule([1.0], length=100.0)
    tight = Tolerances(rtol=1e-12, atol=np.full(2, 1e-15), n_controlled=2, max_steps=10)
    with pytest.raises(SolverError, match="too many steps"):
        integrate_schedule(_decay, schedule, np.array([1.0, 0.0]), _DECAY, np.array([100.0]), tight, ["a", "b"])


# ---------------------------------------------------------------- the organ model against scipy
def _relative_error(ours, reference, first=0):
    """Per state: max |difference| over time / max |reference| over time (states that stay ~0 skipped).

    ``first`` is the index of the first state column passed, for the names.
    """
    scale = np.max(np.abs(reference), axis=0)
    active = scale > 1e-9
    names = np.array(STATE_NAMES[first : first + reference.shape[1]])
    return np.max(np.abs(ours - reference), axis=0)[active] / scale[active], names[active]


def _run_both(loaded, n_days, rtol_reference):
    program = ScenarioProgram(loaded)
    y0 = initial_state(program)
    schedule = program.schedule(0, n_days)
    t_out = np.arange(0.0, n_days * 1440.0 + 1.0, 30.0)
    ours = integrate_schedule(
        organ_integrator(), schedule, y0, program.parameters, t_out, default_tolerances(), STATE_NAMES
    )
    reference = solve_with_scipy(schedule, y0, program.parameters, t_out, rtol=rtol_reference, atol=1e-12)
    return ours, reference


MEAL_DAY_GLOBAL_ERROR = 3e-5
"""Largest relative error of a state over a meal day at the default rtol (1e-6) against scipy at 1e-11. Measured
(2026-12-04) over the meal day below with its meals moved 0, 0.1, 0.25, 0.4 and 0.6 h: 0.43, 0.72, 1.17, 1.01 and
2.50e-5 on the model of 2026-12-03, 0.61, 2.14, 1.38, 0.72 and 1.22e-5 on the model with the gut's new states
(insulin, NEFA and glucagon states; where the steps fall decides it). The bound of 1e-5 this test had until then
held at the unshifted day only, by where its steps fell. Since 2026-12-05 the held set point
(beta_setpoint_adaptation_mg_dl) is a controlled state: the error norm's root mean square over the controlled states
has one more that never errs here, which loosens each step's control by sqrt(45/44), 1.1 %, and moves where the
steps fall (494-495 accepted against 495-496). Measured then at the five shifts: 0.69, 2.48, 0.64, 0.74 and 4.17e-5
(without it 0.61, 2.14, 1.38, 0.72, 1.22e-5); at 13 shifts (0 to 1 h, measured with the same state in 8c891cf) the
median was 0.8e-5 against 1.1e-5 without it: no systematic change, one placement (0.6 h) above the bound, which is
kept and that case recorded as a strict xfail. Since the first phase saturated (2026-12-05, evening) the five shifts
give 0.42, 2.02, 0.76, 0.72 and 0.51e-5, all under the bound, so the 0.6 h case is an ordinary test again."""


@pytest.mark.parametrize(
    "meal_shift_h",
    [
        0.0,
        pytest.param(0.25, marks=pytest.mark.slow),
        pytest.param(0.6, marks=pytest.mark.slow),
    ],
)
def test_meal_day_agrees_with_scipy(make_scenario, meal_shift_h):
    loaded = make_scenario(
        routine={
            "sleep_h": 6.0,
            "meals": [
                {"time_h": 7.5 + meal_shift_h, "carbs_g": 60},
                {"time_h": 12.5 + meal_shift_h, "carbs_g": 80, "absorption": "fast"},
                {"time_h": 19.0 + meal_shift_h, "carbs_g": 80, "absorption": "slow"},
            ],
            "exercise": [{"start_h": 17.0, "duration_min": 45, "intensity_pct_vo2max": 60}],
            "drift": {"whole_body_per_year": -0.05},
        }
    )
    ours, reference = _run_both(loaded, 1, rtol_reference=1e-11)
    error, names = _relative_error(ours.y[:, :FIRST_QUADRATURE], reference[:, :FIRST_QUADRATURE])
    worst = int(np.argmax(error))
    assert error.max() < MEAL_DAY_GLOBAL_ERROR, f"{names[worst]}: {error[worst]:.2e}"
    # running integrals are outputs, not states; the renal one crosses the threshold kink inside steps
    error, names = _relative_error(ours.y[:, FIRST_QUADRATURE:], reference[:, FIRST_QUADRATURE:], FIRST_QUADRATURE)
    assert error.max() < 1e-3, f"{names[int(np.argmax(error))]}: {error.max():.2e}"
    assert ours.y[:, St.exercise_uptake_mg_kg_min].max() > 1.0  # the exercise path was exercised


@pytest.mark.slow
def test_one_year_progression_agrees_with_scipy():
    from glucosim.scenario.load import load_scenario
    from tests.conftest import SCENARIO_DIR

    loaded = load_scenario(SCENARIO_DIR / "05_compensated_with_short_sleep.toml")
    ours, reference = _run_both(loaded, 365, rtol_reference=1e-10)
    error, names = _relative_error(ours.y[:, :FIRST_QUADRATURE], reference[:, :FIRST_QUADRATURE])
    worst = int(np.argmax(error))
    assert error.max() < 1e-4, f"{names[worst]}: {error[worst]:.2e}"


def test_reference_day_cost_ceiling(make_scenario):
    """The work for a reference day must not grow (a cost ceiling, not a timing)."""
    program = ScenarioProgram(make_scenario())
    schedule = program.schedule(0, 1)
    result = integrate_schedule(
        organ_integrator(),
        schedule,
        initial_state(program),
        program.parameters,
        np.array([1440.0]),
        default_tolerances(),
        STATE_NAMES,
    )
    assert result.stats.rhs_evaluations <= 4600, result.stats


def test_outputs_cost_no_extra_steps(make_scenario):
    """Outputs come from dense output: asking for one every minute must not add a single evaluation."""
    program = ScenarioProgram(make_scenario())
    schedule = program.schedule(0, 1)
    runs = [
        integrate_schedule(
            organ_integrator(),
            schedule,
            initial_state(program),
            program.parameters,
            t_out,
            default_tolerances(),
            STATE_NAMES,
        )
        for t_out in (np.array([1440.0]), np.arange(0.0, 1441.0))
    ]
    assert runs[0].stats == runs[1].stats
    np.testing.assert_array_equal(runs[0].y[-1], runs[1].y[-1])


def test_dense_output_between_steps_is_accurate():
    # one long segment: every output except the last falls strictly inside a step
    t_out = np.linspace(0.0, 5.0, 1001)
    for rtol in (1e-6, 1e-9):
        result, end_only = (
            integrate_schedule(
                _decay,
                _schedule([2.0], length=5.0),
                np.array([1.0, 0.0]),
                _DECAY,
                times,
                _tolerances(rtol),
                ["a", "b"],
            )
            for times in (t_out, t_out[-1:])
        )
        assert result.stats == end_only.stats  # outputs did not cut the steps
        assert result.stats.accepted_steps < len(t_out) // 2
        np.testing.assert_allclose(result.y[:, 0], np.exp(-2.0 * t_out), rtol=0, atol=50 * rtol)
        np.testing.assert_allclose(result.y[:, 1], np.sin(t_out), rtol=0, atol=50 * rtol)


@pytest.mark.slow  # quick tier: compiles the parallel ensemble (~15 s)
def test_ensemble_is_identical_to_single_patients(make_scenario):
    """integrate_ensemble runs the same step loop per patient: bit-identical to integrate_schedule."""
    from glucosim.solver import integrate_ensemble

    program = ScenarioProgram(make_scenario())
    schedule = program.schedule(0, 2)
    sensitivities = (0.5, 1.0, 1.5)
    params = np.tile(program.parameters, (len(sensitivities), 1))
    params[:, Par.insulin_sensitivity_whole_body] *= sensitivities
    y0 = np.tile(initial_state(program), (len(sensitivities), 1))
    t_out = np.arange(0.0, schedule.t1[-1] + 1.0, 60.0)
    ensemble = integrate_ensemble(schedule, y0, params, t_out, default_tolerances(), organ_ensemble(), STATE_NAMES)
    for k in range(len(sensitivities)):
        alone = integrate_schedule(
            organ_integrator(), schedule, y0[k], params[k], t_out, default_tolerances(), STATE_NAMES
        )
        np.testing.assert_array_equal(ensemble.y[k], alone.y)
        np.testing.assert_array_equal(ensemble.y_final[k], alone.y_final)
        assert ensemble.rhs_evaluations[k] == alone.stats.rhs_evaluations
    assert not np.array_equal(ensemble.y[0], ensemble.y[2])  # the patients differ


@pytest.mark.slow  # quick tier: compiles the parallel ensemble (~15 s)
def test_ensemble_failure_names_the_patient():
    from glucosim.solver import bind_ensemble, integrate_ensemble

    blow_up = bind_ensemble(problem_rhs, f"{NAME}_dopri5")  # its core is bound("dopri5")'s
    y0 = np.array([[0.1, 0.0], [1.0, 0.0]])  # the second blows up at t = 1
    with pytest.raises(SolverError, match="patient 1"):
        integrate_ensemble(
            _schedule([0.0], length=2.0),
            y0,
            problem_params(BLOW_UP, 2),
            np.array([2.0]),
            Tolerances(rtol=1e-6, atol=np.full(2, 1e-9), n_controlled=1),
            blow_up,
            ["x", "unused"],
        )


def test_whole_hill_exponents_are_multiplied_out_and_agree_with_pow():
    """physiology._jit.power: the right-hand side's Hill functions skip libm's pow for exponents 1-4 and 6
    (issue 12's profile: pow was the largest single cost) and must give pow's value to a few ulp."""
    from glucosim.physiology._jit import power

    for exponent in (1.0, 2.0, 3.0, 4.0, 2.5, 0.2, -0.2, 6.0):
        for x in (1e-3, 0.37, 1.0, 1.9, 12.5, 420.0):
            assert power(x, exponent) == pytest.approx(x**exponent, rel=1e-15, abs=0.0), (x, exponent)
        assert power(0.0, exponent) == (0.0 if exponent > 0.0 else math.inf)


def test_registry_names_methods_and_rejects_unknown():
    from glucosim.errors import GlucosimError
    from glucosim.solver import get_method, method_names

    assert "dopri5" in method_names()
    assert get_method("dopri5").order == 5
    with pytest.raises(GlucosimError, match="unknown solver method 'rk4'; choose one of: .*dopri5"):
        get_method("rk4")


def test_counters_follow_the_contract():
    """Rule 8: five counters; an explicit method reports no Jacobians or factorisations; rhs = 6 per step + 1."""
    result = integrate_schedule(
        _decay,
        _schedule([1.0], length=3.0),
        np.array([1.0, 0.0]),
        _DECAY,
        np.array([3.0]),
        _tolerances(1e-8),
        ["a", "b"],
    )
    stats = result.stats
    assert stats.jacobian_evaluations == 0 and stats.factorizations == 0
    assert stats.rhs_evaluations == 6 * (stats.accepted_steps + stats.rejected_steps) + 1
    assert set(stats.as_dict()) == {
        "rhs_evaluations",
        "accepted_steps",
        "rejected_steps",
        "jacobian_evaluations",
        "factorizations",
    }


def test_solver_package_does_not_import_the_model():
    """The contract side knows states by position only: no solver module imports the physiology."""
    import ast
    from pathlib import Path

    import glucosim.solver

    offenders = []
    for path in Path(glucosim.solver.__file__).parent.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("glucosim.physiology"):
                offenders.append(f"{path.name}: {node.module}")
            if isinstance(node, ast.Import):
                offenders += [f"{path.name}: {a.name}" for a in node.names if a.name.startswith("glucosim.physiology")]
    assert offenders == []


def test_simulate_records_the_method_and_rejects_unknown_ones(make_scenario):
    import glucosim
    from glucosim.solver import UnknownMethodError

    loaded = make_scenario(duration_days=1)
    result = glucosim.simulate(loaded, progress=False, method="dopri5")
    solver = result.summary["provenance"]["solver"]
    assert solver["method"] == "dopri5"
    assert solver["rhs_evaluations"] == result.stats.rhs_evaluations > 0
    assert solver["jacobian_evaluations"] == 0
    with pytest.raises(UnknownMethodError, match="dopri5"):
        glucosim.simulate(loaded, progress=False, method="euler")


# ---------------------------------------------------------------- every registered method meets the contract


METHODS = ("dopri5", "dop853", "ros34pw2")
EXPLICIT_METHODS = ("dopri5", "dop853")
METHOD_ORDERS = {"dopri5": 5, "dop853": 8, "ros34pw2": 3}
STAGES_PER_STEP = {"dopri5": 6, "dop853": 12}
"""Right-hand-side evaluations per step attempt of the explicit methods (first same as last), without dense-output
stages (ros34pw2's count, with its Jacobians, is tested in tests/test_solver_rosw.py)."""
DENSE_OUTPUT_STAGES = {"dopri5": 0, "dop853": 3, "ros34pw2": 0}
"""Extra right-hand-side evaluations in a step that holds outputs."""
ASYMPTOTIC_STEPS = {"dopri5": (0.2, 0.1), "dop853": (0.8, 0.4), "ros34pw2": (0.2, 0.1)}
"""Fixed steps (minutes) in each method's asymptotic range on y' = -y over 4 minutes."""
DENSE_OUTPUT_RTOLS = {"dopri5": (1e-6, 1e-9), "dop853": (1e-6, 1e-9), "ros34pw2": (1e-4, 1e-6)}
"""Tolerances of the dense-output test: at 1e-9 the 3rd-order ros34pw2 takes more steps (3,000) than the test has
outputs (650 at 1e-7), which would then no longer fall inside steps."""


def test_contract_tests_cover_every_registered_method():
    """The tests below run for each name in METHODS: a method registered later must be added there."""
    from glucosim.solver import method_names

    assert set(METHODS) == set(method_names())


@pytest.mark.parametrize("method", METHODS)
def test_registered_order_is_the_measured_order(method):
    """With a loose tolerance the controller is inactive and h_max sets the step: halving it divides the
    error by 2^order (y' = -y, exact solution e^-t)."""
    from glucosim.solver import get_method

    integrator = bound(method)
    order = get_method(method).order
    assert order == METHOD_ORDERS[method]
    errors = []
    # in the asymptotic range, with errors far above rounding (8th order needs the longer steps)
    for h in ASYMPTOTIC_STEPS[method]:
        result = integrate_schedule(
            integrator,
            _schedule([1.0], length=4.0),
            np.array([1.0, 0.0]),
            _DECAY,
            np.array([4.0]),
            Tolerances(rtol=1e3, atol=np.full(2, 1e3), n_controlled=2, h_init=h, h_max=h),
            ["a", "b"],
        )
        errors.append(abs(result.y[0, 0] - np.exp(-4.0)))
    measured = np.log2(errors[0] / errors[1])
    assert order - 0.5 < measured < order + 0.5, errors


@pytest.mark.parametrize("method", METHODS)
def test_dense_output_accurate_and_never_changes_the_steps(method):
    """Rule 4 for every method: outputs inside steps come from the dense output (within the tolerance), the
    steps and the end state are those of a run without outputs; only dop853's extra dense stages cost."""
    integrator = bound(method)
    t_out = np.linspace(0.0, 5.0, 1001)
    for rtol in DENSE_OUTPUT_RTOLS[method]:
        dense, end_only = (
            integrate_schedule(
                integrator,
                _schedule([2.0], length=5.0),
                np.array([1.0, 0.0]),
                _DECAY,
                times,
                _tolerances(rtol),
                ["a", "b"],
            )
            for times in (t_out, t_out[-1:])
        )
        assert (dense.stats.accepted_steps, dense.stats.rejected_steps) == (
            end_only.stats.accepted_steps,
            end_only.stats.rejected_steps,
        )
        np.testing.assert_array_equal(dense.y_final, end_only.y_final)
        extra = dense.stats.rhs_evaluations - end_only.stats.rhs_evaluations
        assert extra == DENSE_OUTPUT_STAGES[method] * dense.stats.accepted_steps  # every step holds outputs
        assert dense.stats.accepted_steps < len(t_out) // 2
        np.testing.assert_allclose(dense.y[:, 0], np.exp(-2.0 * t_out), rtol=0, atol=50 * rtol)
        np.testing.assert_allclose(dense.y[:, 1], np.sin(t_out), rtol=0, atol=50 * rtol)


def test_dop853_dense_output_is_of_seventh_order():
    """Fixed steps h and h/2: the largest error of the continuous extension between steps falls by ~2^8
    (local error of a 7th-order interpolant), far more than a 4th-order (dopri5-like) one's 2^5."""
    integrator = bound("dop853")
    t_out = np.linspace(0.0, 4.0, 401)
    errors = []
    for h in (1.0, 0.5):
        result = integrate_schedule(
            integrator,
            _schedule([1.0], length=4.0),
            np.array([1.0, 0.0]),
            _DECAY,
            t_out,
            Tolerances(rtol=1e3, atol=np.full(2, 1e3), n_controlled=2, h_init=h, h_max=h),
            ["a", "b"],
        )
        errors.append(np.max(np.abs(result.y[:, 0] - np.exp(-t_out))))
    assert np.log2(errors[0] / errors[1]) > 7.0, errors


@pytest.mark.parametrize("method", EXPLICIT_METHODS)
def test_counters_of_each_method(method):
    """Rule 8: no Jacobians or factorisations for an explicit method; stages per attempt plus the first."""
    result = integrate_schedule(
        bound(method),
        _schedule([1.0], length=3.0),
        np.array([1.0, 0.0]),
        _DECAY,
        np.array([3.0]),
        _tolerances(1e-8),
        ["a", "b"],
    )
    stats = result.stats
    assert stats.jacobian_evaluations == 0 and stats.factorizations == 0
    assert stats.accepted_steps > 3
    attempts = stats.accepted_steps + stats.rejected_steps
    assert stats.rhs_evaluations == STAGES_PER_STEP[method] * attempts + 1


@pytest.mark.parametrize("method", METHODS)
def test_continuation_with_h_next_equals_an_unsplit_run(method):
    """Rule 6: a run split at a segment boundary, the second call starting with the first's h_next, takes
    the same steps and ends in the same state (bit for bit) as one call over both segments."""
    integrator = bound(method)
    schedule = _schedule([1.0, 3.0, 0.5], length=2.0, jumps=[[0.0, 0.0], [0.5, 0.0], [0.2, 0.0]])
    tolerances = _tolerances(1e-7)
    whole = integrate_schedule(
        integrator, schedule, np.array([1.0, 0.0]), _DECAY, np.array([6.0]), tolerances, ["a", "b"]
    )
    first = integrate_schedule(
        integrator,
        Schedule(schedule.t0[:1], schedule.t1[:1], schedule.drivers[:1], schedule.jumps[:1]),
        np.array([1.0, 0.0]),
        _DECAY,
        np.array([2.0]),
        tolerances,
        ["a", "b"],
    )
    second = integrate_schedule(
        integrator,
        Schedule(schedule.t0[1:], schedule.t1[1:], schedule.drivers[1:], schedule.jumps[1:]),
        first.y_final,
        _DECAY,
        np.array([6.0]),
        Tolerances(rtol=1e-7, atol=tolerances.atol, n_controlled=2, h_max=tolerances.h_max, h_init=first.h_next),
        ["a", "b"],
    )
    assert first.stats + second.stats == whole.stats
    np.testing.assert_array_equal(second.y_final, whole.y_final)
    assert second.h_next == whole.h_next


@pytest.mark.parametrize("method", METHODS)
def test_failures_give_status_codes_and_solver_errors(method):
    """Rule 7 for every method: a blow-up stops near its time with a finite state; a step budget is kept."""
    blow_up = bound(method)
    with pytest.raises(SolverError) as info:
        integrate_schedule(
            blow_up,
            _schedule([0.0], length=2.0),
            np.array([1.0, 0.0]),
            _BLOW_UP,
            np.array([2.0]),
            Tolerances(rtol=1e-6, atol=np.full(2, 1e-9), n_controlled=1),
            ["x", "unused"],
        )
    assert info.value.time_min == pytest.approx(1.0, abs=1e-3)
    assert np.isfinite(info.value.state["x"])
    # the raw status code, as the compiled integrator returns it
    from glucosim.solver.contract import STATUS_STEP_UNDERFLOW, STATUS_TOO_MANY_STEPS

    status, t_final = blow_up(
        np.array([1.0, 0.0]),
        *(np.array([0.0]), np.array([2.0]), np.zeros((1, 1)), np.zeros((1, 2)), np.zeros((1, 2), dtype=np.bool_)),
        _BLOW_UP,
        np.array([2.0]),
        *(1e-6, np.full(2, 1e-9), 1, 0.5, 10.0, 50_000_000),
    )[3:5]
    assert status == STATUS_STEP_UNDERFLOW and t_final == pytest.approx(1.0, abs=1e-3)
    decay = bound(method)
    tight = Tolerances(rtol=1e-12, atol=np.full(2, 1e-15), n_controlled=2, max_steps=10)
    with pytest.raises(SolverError, match="too many steps"):
        integrate_schedule(
            decay, _schedule([1.0], length=100.0), np.array([1.0, 0.0]), _DECAY, np.array([100.0]), tight, "ab"
        )
    status, t_final = decay(
        np.array([1.0, 0.0]),
        *(np.array([0.0]), np.array([100.0]), np.ones((1, 1)), np.zeros((1, 2)), np.zeros((1, 2), dtype=np.bool_)),
        _DECAY,
        np.array([100.0]),
        *(1e-12, np.full(2, 1e-15), 2, 0.5, 10.0, 10),
    )[3:5]
    assert status == STATUS_TOO_MANY_STEPS and 0.0 < t_final < 100.0


def test_dop853_is_registered_beside_dopri5():
    from glucosim.solver import get_method, method_names

    assert {"dopri5", "dop853"} <= set(method_names())
    assert get_method("dop853").order == 8


DOP853_TIGHT_RTOL = 1e-8
DOP853_TIGHT_ERROR = 1e-4
"""dop853 on the meal day agrees with a scipy reference at rtol 1e-11: at rtol 1e-8 its largest relative error over
every 5-minute output of the day is below 1e-4 (measured 2026-12-04, night: 1.4e-5; 4.8e-5, at 14:35, on the model
before that night's course refit). Until then the test read 30-minute outputs against 1e-5: they gave 2.1e-6, and
1.03e-5 after the refit, while the 5-minute outputs between them were off by up to 4.8e-5 on the same model and
run. A bound of 1e-5 at those outputs held by where they fell, not by the method: the model's right-hand side has
kinks (the liver's sources switch, clipped fluxes) that no step control resolves to rtol. The convergence test
below asks for a hundredfold fall as both tolerances tighten 10,000 times."""
DOP853_DENSE_OUTPUT_MIN = 5.0
"""Output spacing of the tight-tolerance comparison: every 5 minutes, so the largest error is no sampling accident."""


MEAL_EXERCISE_DAY = {
    "sleep_h": 6.0,
    "meals": [{"time_h": 7.5, "carbs_g": 60}, {"time_h": 12.5, "carbs_g": 80}, {"time_h": 19.0, "carbs_g": 80}],
    "exercise": [{"start_h": 17.0, "duration_min": 45, "intensity_pct_vo2max": 60}],
}
"""The routine of the methods' accuracy tests: three meals and 45 min of exercise (test_solver_rosw.py too)."""


def _meal_day_errors(make_scenario, output_min: float = 30.0, method: str = "dop853"):
    """(loaded scenario, largest relative error of ``method`` at given tolerances against scipy at rtol 1e-11, name),
    at outputs every ``output_min`` minutes."""
    loaded = make_scenario(routine=MEAL_EXERCISE_DAY)
    program = ScenarioProgram(loaded)
    y0 = initial_state(program)
    schedule = program.schedule(0, 1)
    t_out = np.arange(0.0, 1441.0, output_min)
    reference = solve_with_scipy(schedule, y0, program.parameters, t_out, rtol=1e-11, atol=1e-12)

    def largest_error(tolerances):
        ours = integrate_schedule(
            organ_integrator(method), schedule, y0, program.parameters, t_out, tolerances, STATE_NAMES
        )
        error, names = _relative_error(ours.y[:, :FIRST_QUADRATURE], reference[:, :FIRST_QUADRATURE])
        return error.max(), names[int(np.argmax(error))]

    return loaded, largest_error


@pytest.mark.slow  # compiles the organ model's dop853 integrator (about a minute when numba's cache is cold)
def test_dop853_meal_day_is_recorded(make_scenario):
    """simulate(..., method="dop853") runs the organ model and records the method in the provenance."""
    import glucosim

    loaded = make_scenario(routine=MEAL_EXERCISE_DAY)
    result = glucosim.simulate(loaded, progress=False, method="dop853", until_day=1)
    assert result.summary["provenance"]["solver"]["method"] == "dop853"


@pytest.mark.slow
def test_dop853_meal_day_agrees_with_scipy_at_a_tight_tolerance(make_scenario):
    """The organ model under dop853 agrees with a tight scipy reference at a tight tolerance, at every 5 minutes."""
    _, largest_error = _meal_day_errors(make_scenario, DOP853_DENSE_OUTPUT_MIN)
    tight_error, name = largest_error(default_tolerances(DOP853_TIGHT_RTOL))
    assert tight_error < DOP853_TIGHT_ERROR, f"{name}: {tight_error:.2e}"


CONVERGENCE_FACTOR = 1e-4
"""How much the convergence test tightens both tolerances: rtol 1e-6 to 1e-10, each state's atol by the same factor."""


def _tightened(factor: float):
    import dataclasses

    from glucosim.simulation.organ import default_atol

    default = default_tolerances()
    return dataclasses.replace(default, rtol=default.rtol * factor, atol=default_atol() * factor)


@pytest.mark.slow
@pytest.mark.parametrize("method", ["dopri5", "dop853"])
def test_each_method_converges_as_both_tolerances_tighten(make_scenario, method):
    """10,000 times tighter tolerances (rtol and every atol) give an error at least 100 times smaller on the meal day:
    tenfold per hundredfold, the rate the tenfold test below asks over two decades, here over four.

    Measured 2026-12-05 (afternoon, the refitted model): dop853 1.89e-4, 6.66e-6 and 7.58e-8 at rtol 1e-6, 1e-8 and
    1e-10 (2,487-fold); dopri5 2.85e-6 and 1.80e-8 at 1e-6 and 1e-10 (158-fold). That morning: dop853 4.78e-5, 7.98e-6
    and 1.57e-7 (304-fold); dopri5 2.84e-6, 2.26e-7 and 1.43e-8 (199-fold). With atol left at its default, as the
    tenfold test had it, dop853 floored near 1e-5 (1.09e-5 at 1e-8, 1.61e-5 at 1e-10): atol held the tightest run."""
    _, largest_error = _meal_day_errors(make_scenario, method=method)
    default_error, _ = largest_error(default_tolerances())
    tight_error, name = largest_error(_tightened(CONVERGENCE_FACTOR))
    assert tight_error < default_error / 100.0, f"{name}: {tight_error:.2e} against {default_error:.2e} at the default"


@pytest.mark.slow
def test_dop853_converges_tenfold_over_its_first_two_decades(make_scenario):
    """100 times tighter tolerances, at least 10 times smaller: what dop853's order promises. It did not keep it on
    the meal day of the model of 2026-12-05's morning (4.78e-5 to 7.98e-6, 6-fold: a strict xfail since the held set
    point joined the controlled states; where the steps fall around the right-hand side's kinks decides it); on the
    model refitted that afternoon (protein's potentiation, the course) it falls 28-fold (1.89e-4 to 6.66e-6). With the
    first phase's priming (2026-12-05, late night; one more controlled state) it fell 9.1-fold at the fitted amplitude
    1.10 (6.68e-5 to 7.31e-6), above 10-fold at 1.0, 1.2 and 1.37 and 1.8-fold at 0; with the priming's switches
    smoothed (beta_cells.PRIMING_SMOOTHING) 6-fold (6.59e-5 to 1.10e-5). The worst tight-run output sits mid-step at
    570 min with ~20 times its neighbours' error: the continuous extension's error, which dop853 does not control
    (its order has its own test, test_dop853_dense_output_is_of_seventh_order). Read at the schedule's segment ends,
    where every step lands, the same runs fall 19-fold (unsmoothed, 1.10), 38-fold (amplitude 0), 5.6-fold (1.37)
    and 6.1-fold (smoothed, 2.3e-6 to 3.8e-7): no reading is robust to where the steps fall. It was a strict xfail
    until the model of 2026-12-06 (the incretin on the second phase, the intravenous dose-response and the saturating
    extraction), on which it falls 239-fold (1.38e-4 to 5.77e-7, both in the liver's insulin): it passes again, and
    a model on which it fails again says so."""
    _, largest_error = _meal_day_errors(make_scenario)
    default_error, _ = largest_error(default_tolerances())
    tight_error, name = largest_error(_tightened(1e-2))
    assert tight_error < default_error / 10.0, f"{name}: {tight_error:.2e} against {default_error:.2e} at the default"


@pytest.mark.slow  # compiles a parallel ensemble kernel
@pytest.mark.parametrize("method", METHODS)
def test_each_method_ensemble_is_identical_to_single_runs(method):
    """Rule 2's ensemble for every method: each row bit-identical to integrating it alone, counters too."""
    from glucosim.solver import get_method, integrate_ensemble

    chosen = get_method(method)
    ensemble = chosen.bind_ensemble(problem_rhs, f"{NAME}_{method}")
    single = bound(method)
    # the second segment's event resets the first state before its jump (rule 3): every row restarts from 0.5
    schedule = dataclasses.replace(
        _schedule([1.0, 3.0], length=2.0, jumps=[[0.0, 0.0], [0.5, 0.0]]), resets=np.array([[0, 0], [1, 0]], bool)
    )
    y0 = np.array([[1.0, 0.0], [2.0, 0.5], [0.1, -1.0]])
    t_out = np.linspace(0.0, 4.0, 9)
    together = integrate_ensemble(
        schedule, y0, problem_params(DECAY, 3), t_out, _tolerances(1e-8), ensemble, ["a", "b"]
    )
    np.testing.assert_allclose(together.y[:, -1, 0], 0.5 * np.exp(-6.0), rtol=1e-6)
    for k in range(len(y0)):
        alone = integrate_schedule(single, schedule, y0[k], _DECAY, t_out, _tolerances(1e-8), ["a", "b"])
        np.testing.assert_array_equal(together.y[k], alone.y)
        assert together.rhs_evaluations[k] == alone.stats.rhs_evaluations
        assert together.accepted_steps[k] == alone.stats.accepted_steps


def test_a_state_of_another_length_is_refused_before_the_compiled_code_runs(make_scenario):
    """A state kept by a model with another state table (one value short, say) would be read and written past its
    end by the compiled right-hand side: integrate_schedule refuses it, naming the lengths; run_protocol says how
    long a test's starting state must be."""
    import glucosim
    from glucosim.errors import ClinicError
    from glucosim.physiology.indices import N_STATES

    program = ScenarioProgram(make_scenario(duration_days=1))
    schedule = program.schedule(0, 1)
    short = initial_state(program)[:-1]
    with pytest.raises(ValueError, match=rf"y0 \({N_STATES - 1}\), atol \({N_STATES}\)"):
        integrate_schedule(
            organ_integrator(), schedule, short, program.parameters, np.array([60.0]), default_tolerances(), STATE_NAMES
        )
    with pytest.raises(ClinicError, match=rf"has {N_STATES} values"):
        glucosim.run_protocol("ogtt_75g", make_scenario(duration_days=1), state=short)
