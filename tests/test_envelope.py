"""Envelope following: its pieces on problems with known answers, and its accuracy against full resolution.

The accuracy criteria (issue 12): threshold-crossing days within 1 % of the run length, yearly markers
within 1 % relative, the same final stage. Each scenario runs once at each resolution and every criterion
is checked on that pair.
"""

from pathlib import Path

import numpy as np
import pytest

from glucosim.analysis import markers
from glucosim.physiology.indices import N_DRIVERS, SLOW_STATES, STATE_NAMES, St
from glucosim.scenario.compile import ScenarioProgram
from glucosim.simulation.envelope import (
    EnvelopeSettings,
    _choose_step,
    _Table,
    relaxation_rates,
    routine_period,
    slow_state_mask,
)
from glucosim.simulation.initial_state import initial_state
from glucosim.simulation.organ import organ_jacobian_diagonal, organ_rhs
from glucosim.simulation.result import YEARLY_COLUMNS
from glucosim.simulation.run import ResolutionError, simulate
from tests.conftest import THREE_MEALS

ROOT = Path(__file__).resolve().parent.parent
SCENARIOS = sorted((ROOT / "scenarios").glob("*.toml"))
PREVENTION_SWEEP = ROOT / "scenarios" / "sweeps" / "prediabetes_lifestyle.toml"
COHORT_SAMPLES = (0, 1)
"""Patients of the prevention sweep's cohort compared in both arms (control: daily routine; lifestyle:
weekly exercise, so the envelope's period is a week)."""
CROSSING_TOLERANCE = 0.01
"""Threshold-crossing days within this fraction of the run length."""
YEARLY_TOLERANCE = 0.01
"""Yearly markers within this relative difference."""


def test_choose_step_is_exact_on_a_linear_envelope():
    """Constant slopes: no error estimate, so the longest step allowed, and the exact increment."""
    slope = np.array([0.01, -0.002])
    history = [(0, slope, None), (10, slope, None), (30, slope, None)]
    step, increment = _choose_step(history, 1, 60, np.array([1.0, 0.5]), EnvelopeSettings())
    assert step == 60
    np.testing.assert_allclose(increment, (60 - 1) * slope)


def test_choose_step_integrates_a_linearly_changing_slope_exactly():
    """Slopes at period midpoints d + 1/2 from y' = a + b t; the increment past the period is exact."""
    a, b = 0.01, 1e-4

    def slope_at(day):
        return np.array([a + b * (day + 0.5)])

    history = [(day, slope_at(day), None) for day in (0, 20, 50)]
    step, increment = _choose_step(history, 1, 40, np.array([1.0]), EnvelopeSettings())
    start, end = 51, 50 + step
    np.testing.assert_allclose(increment, a * (end - start) + b * (end**2 - start**2) / 2, rtol=1e-12)


def test_choose_step_shrinks_where_the_slope_curves():
    settings = EnvelopeSettings()
    gentle = [(day, np.array([1e-4 * np.exp(day / 3000)]), None) for day in (0, 20, 40)]
    sharp = [(day, np.array([1e-4 * np.exp(day / 30)]), None) for day in (0, 20, 40)]
    y = np.array([0.5])
    assert _choose_step(sharp, 1, 120, y, settings)[0] < _choose_step(gentle, 1, 120, y, settings)[0]


def test_interpolated_rows_follow_the_same_phase_of_a_week():
    table = _Table(30)
    weekday_bump = np.array([0, 0, 0, 0, 0, 5, 5], dtype=float)
    for start in (0, 21):
        days = np.arange(start, start + 7)
        table.put(start, {"day": days, "marker": 100.0 + days + weekday_bump[days % 7]})
    table.interpolate(0, 21, 7)
    days = np.arange(7, 21)
    np.testing.assert_allclose(table.columns["marker"][days], 100.0 + days + weekday_bump[days % 7])
    np.testing.assert_array_equal(table.columns["day"][:28], np.arange(28))  # each row keeps its own day number
    assert not table.simulated[7:21].any() and table.simulated[:7].all()


def test_threshold_crossing_is_located_between_simulated_periods():
    table = _Table(40)
    for start in (0, 30):
        days = np.arange(start, start + 1)
        table.put(start, {"fasting_glucose_mg_dl": 95.0 + 0.5 * days, "postmeal_2h_glucose_mg_dl": np.full(1, 120.0)})
    assert table.crossing(0, 30, 1) == pytest.approx(10.0)  # 95 + 0.5 d reaches 100 on day 10


def test_slow_states_are_the_ones_the_model_freezes(make_scenario):
    program = ScenarioProgram(make_scenario())
    y = initial_state(program)
    slow = slow_state_mask(organ_rhs(), y, program.parameters, N_DRIVERS)
    # the state table declares exactly the states the model freezes
    np.testing.assert_array_equal(slow, np.isin(STATE_NAMES, SLOW_STATES))
    for state in (St.beta_mass_rel, St.beta_function_rel, St.weight_change_kg, St.training_level):
        assert slow[state]
    for state in (St.glucose_plasma_mg_kg, St.glucose_mean_mg_dl, St.insulin_plasma_pmol_kg, St.cum_glucose_mg_dl_min):
        assert not slow[state]
    rates = relaxation_rates(organ_jacobian_diagonal(), y, program.schedule(0, 1)[0].drivers[0], program.parameters)
    # the running means relax over chronic_filter_time (a day)
    assert rates[St.glucose_mean_mg_dl] == pytest.approx(-1.0, rel=1e-3)


def test_routine_period_is_a_day_or_a_week(make_scenario):
    daily = ScenarioProgram(make_scenario(duration_days=30))
    assert routine_period(daily, 0, daily.n_days) == 1
    exercise = [{"start_h": 18.0, "duration_min": 30, "intensity_pct_vo2max": 55, "weekdays": [0, 2, 4]}]
    weekly = ScenarioProgram(
        make_scenario(duration_days=30, routine={"sleep_h": 8.0, "meals": THREE_MEALS, "exercise": exercise})
    )
    assert routine_period(weekly, 0, weekly.n_days) == 7


def test_unknown_resolution_is_refused(make_scenario):
    with pytest.raises(ResolutionError, match="envelope"):
        simulate(make_scenario(duration_days=1), progress=False, resolution="coarse")


def _compare(full, envelope):
    """Issue 12's criteria for one pair of runs; returns the largest differences found."""
    n_days = full.summary["duration_days"]
    assert envelope.summary["duration_days"] == n_days
    assert envelope.summary["final_stage"] == full.summary["final_stage"]
    for name in markers.CROSSINGS:
        exact, followed = full.summary["first_crossing_day"][name], envelope.summary["first_crossing_day"][name]
        assert (exact is None) == (followed is None), name
        if exact is not None:
            assert abs(followed - exact) <= CROSSING_TOLERANCE * n_days, (name, exact, followed)
    for column in YEARLY_COLUMNS:
        exact, followed = full.yearly[column].to_numpy(), envelope.yearly[column].to_numpy()
        scale = np.maximum(np.abs(exact), 1e-9)
        np.testing.assert_array_less(np.abs(followed - exact) / scale, YEARLY_TOLERANCE, err_msg=column)
    assert not full.daily["interpolated"].any()
    assert envelope.daily["interpolated"].mean() > 0.5  # it did skip most days
    provenance = envelope.summary["provenance"]["solver"]
    assert provenance["resolution"] == "envelope"
    assert provenance["simulated_days"] < n_days


@pytest.mark.slow
@pytest.mark.parametrize("path", SCENARIOS, ids=lambda path: path.stem)
def test_envelope_matches_full_resolution_on_shipped_scenarios(path):
    from glucosim.clinic.visits import simulate_with_visits

    full = simulate_with_visits(path, progress=False, resolution="full")
    envelope = simulate_with_visits(path, progress=False, resolution="envelope")
    _compare(full, envelope)
    # clinic visits run on a simulated (landed) midnight state, and agree
    assert len(envelope.clinic) == len(full.clinic)
    for exact, followed in zip(full.summary["clinic"], envelope.summary["clinic"]):
        assert followed["day"] == exact["day"]


def _cohort_scenarios():
    from glucosim.scenario.load import parse_scenario
    from glucosim.sweep.load import load_sweep
    from glucosim.sweep.runner import design_table
    from glucosim.sweep.scenario_edit import run_scenario_data

    loaded = load_sweep(PREVENTION_SWEEP)
    design = design_table(loaded)
    for _, row in design[design["sample"].isin(COHORT_SAMPLES)].iterrows():
        arm = loaded.sweep.arms[int(row["arm_index"])]
        values = {name: float(row[name]) for name in loaded.variable_names}
        data = run_scenario_data(loaded, arm, values)
        yield f"patient{row['sample']}-{arm.name}", parse_scenario(data, source=f"{PREVENTION_SWEEP} ({arm.name})")


@pytest.mark.slow
def test_envelope_matches_full_resolution_on_cohort_patients():
    for label, scenario in _cohort_scenarios():
        full = simulate(scenario, progress=False, resolution="full")
        envelope = simulate(scenario, progress=False, resolution="envelope")
        try:
            _compare(full, envelope)
        except AssertionError as error:
            raise AssertionError(f"{label}: {error}") from error


def test_requested_midnight_states_are_kept_and_visits_land(make_scenario):
    """Every requested midnight state is returned (interpolated between simulated ones where the envelope
    skipped), and landing days are simulated."""
    loaded = make_scenario(duration_days=200)
    days = tuple(range(0, 201, 10))
    result = simulate(loaded, progress=False, resolution="envelope", state_days=days, landing_days=(97,))
    assert set(result.midnight_states) == set(days)
    assert not result.daily["interpolated"].iloc[97]
    beta = [result.midnight_states[day][St.beta_mass_rel] for day in days]
    assert np.all(np.isfinite(beta))


def test_short_runs_stay_at_full_resolution_by_default(make_scenario):
    result = simulate(make_scenario(duration_days=3), progress=False)
    assert result.summary["provenance"]["solver"]["resolution"] == "full"
    assert not result.daily["interpolated"].any()
