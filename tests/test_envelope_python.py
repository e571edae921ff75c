"""The Python around envelope following's integration computes what it did before, in fewer numpy calls.

Envelope following simulates one day at a time; its daily rows are gathered per simulated period
(``simulation.daily.DailySamples``) and computed once at the end, its table writes them in one pass, and clinic
visits read their samples from numpy. Each test compares the batched path with the one-at-a-time path it replaced,
exactly (the same floating-point operations on the same values).
"""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from glucosim.clinic import analysis
from glucosim.clinic.runner import run_protocol
from glucosim.clinic.visits import run_scheduled_visits, scheduled_visits, simulate_with_visits
from glucosim.scenario.compile import ScenarioProgram
from glucosim.scenario.load import load_scenario
from glucosim.simulation.daily import DailySamples, daily_rows, daily_samples
from glucosim.simulation.envelope import _last_of_each, _Table
from glucosim.simulation.initial_state import initial_state
from glucosim.simulation.organ import default_tolerances, organ_integrator
from glucosim.simulation.run import DayStepper

ROOT = Path(__file__).resolve().parent.parent
SCENARIO = ROOT / "scenarios" / "03_insulin_resistance_low_reserve.toml"


@pytest.fixture(scope="module")
def three_days():
    """Days 0-2 of scenario 03 integrated as one stretch, and each day again from its own midnight."""
    program = ScenarioProgram(load_scenario(SCENARIO))
    y0 = initial_state(program)
    whole = DayStepper(program, organ_integrator(), default_tolerances(1e-4))
    whole.defer_rows = True
    together, _ = whole.run(y0, 0, 3)
    single = DayStepper(program, organ_integrator(), default_tolerances(1e-4))
    single.defer_rows = True
    days, y = [], y0
    for day in range(3):
        samples, y = single.run(y, day, 1)
        days.append(samples)
    return program, together, days


def _assert_same_columns(a: dict, b: dict) -> None:
    assert list(a) == list(b)
    for name in a:
        np.testing.assert_array_equal(a[name], b[name], err_msg=name)
        assert np.asarray(a[name]).dtype == np.asarray(b[name]).dtype, name


def test_daily_rows_of_days_gathered_apart_are_those_computed_one_day_at_a_time(three_days):
    _, _, days = three_days
    per_day = [samples.columns() for samples in days]
    together = DailySamples.concatenate(days).columns()
    _assert_same_columns(together, {name: np.concatenate([c[name] for c in per_day]) for name in per_day[0]})
    assert len(together["day"]) == 3 and list(together["day"]) == [0, 1, 2]


def test_daily_samples_taken_apart_give_the_stretch_rows(three_days):
    _, together, _ = three_days
    rows = together.columns()
    for k in range(3):
        _assert_same_columns(together.take(np.array([k])).columns(), {name: rows[name][k : k + 1] for name in rows})
    assert np.isfinite(rows["fasting_glucose_mg_dl"]).all() and np.isfinite(rows["postmeal_2h_glucose_mg_dl"]).all()


def test_daily_rows_are_the_columns_of_the_daily_samples(three_days):
    program, _, _ = three_days
    stepper = DayStepper(program, organ_integrator(), default_tolerances(1e-4))
    y0 = initial_state(program)
    columns, _ = stepper.run(y0, 0, 2)
    p = program.parameters
    t, y, segment, drivers = stepper._last_t, *stepper._last
    plans = [program.day_plan(day) for day in range(2)]
    _assert_same_columns(columns, daily_rows(0, plans, t, y, segment, drivers, p, program.end_min))
    samples = daily_samples(0, plans, t, y, segment, drivers, p, program.end_min)
    glucose = samples.glucose_columns()
    for name in glucose:
        np.testing.assert_array_equal(glucose[name], columns[name])


def test_a_missing_sample_time_is_refused(three_days):
    program, _, _ = three_days
    t = np.arange(0.0, 1440.0 + 1.0, 60.0)  # hourly: no row at breakfast (7:30)
    y = np.ones((len(t), 60))
    with pytest.raises(RuntimeError, match="missing from the output grid"):
        daily_samples(0, [program.day_plan(0)], t, y, np.zeros(len(t), dtype=np.int64), np.ones((1, 40)), None, 1e9)


def test_table_of_deferred_samples_matches_one_written_as_it_comes(three_days):
    """The envelope puts a landing day, rejects it and puts it again: the later put wins in both tables."""
    _, together, days = three_days
    eager, deferred = _Table(8), _Table(8)
    puts = [(0, days[0]), (3, days[1]), (1, days[2]), (3, days[2]), (4, together)]
    for first, samples in puts:
        rows = samples.columns()
        eager.put(first, rows)
        deferred.put(first, samples)
        # the crossing check reads the fasting and 2-h glucose as soon as they are put
        for name in ("fasting_glucose_mg_dl", "postmeal_2h_glucose_mg_dl"):
            np.testing.assert_array_equal(deferred._columns[name], eager._columns[name])
    expected = eager.columns
    got = deferred.columns
    assert set(got) == set(expected)
    assert list(got) == list(days[0].columns())
    np.testing.assert_array_equal(deferred.simulated, eager.simulated)
    for name in expected:
        np.testing.assert_array_equal(got[name][eager.simulated], expected[name][eager.simulated], err_msg=name)
    # day 3 holds the rows put last for it (days[2]'s), not the rejected landing's (days[1]'s)
    assert got["fasting_glucose_mg_dl"][3] == days[2].columns()["fasting_glucose_mg_dl"][0]


def test_last_of_each_day_wins():
    days = np.array([5, 3, 5, 7, 3, 5])
    np.testing.assert_array_equal(np.sort(_last_of_each(days)), [3, 4, 5])


def test_clinic_samples_are_read_as_the_pandas_lookup_read_them():
    samples = pd.DataFrame(
        {
            "time_min": [0.0, 30.0 + 1e-7, 60.0, 90.0, 120.0, 120.0],
            "glucose_mg_dl": [90.0, 150.0, 170.0, 140.0, 120.0, 999.0],
            "insulin_uU_ml": [8.0, 60.0, 70.0, 50.0, 40.0, 1.0],
            "nefa_mmol_l": [0.5, 0.3, 0.2, 0.2, 0.3, 0.3],
        }
    )

    def pandas_lookup(column, minute):  # the lookup before 2026-12-03
        row = samples.index[np.isclose(samples["time_min"], minute)]
        return float(samples.loc[row[0], column]) if len(row) else float("nan")

    for column in ("glucose_mg_dl", "insulin_uU_ml", "nefa_mmol_l"):
        for minute in (0.0, 30.0, 60.0, 90.0, 120.0, 45.0, 180.0):
            expected = pandas_lookup(column, minute)
            got = analysis._at(samples, column, minute)
            assert got == expected or (np.isnan(got) and np.isnan(expected)), (column, minute)
    indices = analysis.ogtt_indices(samples)
    assert indices["two_hour_glucose_mg_dl"] == 120.0  # the first of the two 120-min samples
    assert indices["glucose_tolerance"] == "normal"


def test_visits_reading_each_protocol_once_give_the_visits_run_one_by_one():
    loaded = load_scenario(SCENARIO)
    result = simulate_with_visits(loaded, progress=False, until_day=3000)
    visits = scheduled_visits(loaded)
    assert len(result.clinic) == sum(day < 3000 for _, day in visits) >= 2
    again = run_scheduled_visits(result, visits)
    for (protocol, day), visit, shared in zip(visits, result.clinic, again):
        alone = run_protocol(protocol, loaded, day=day, state=result.midnight_states[day])
        assert alone.indices == visit.indices == shared.indices
        pd.testing.assert_frame_equal(alone.samples, visit.samples)


def _candidate_table_in_numpy(history, period, longest, y_slow, settings, rates, scale, prior_factor, atol, forgetting):
    # _choose_step's table of candidate steps as whole-array numpy (before it was one compiled pass)
    from glucosim.simulation.envelope import _phi, error_horizon, rest_polynomial

    rates = np.minimum(rates, 0.0)
    steps = np.arange(2, longest // period + 1) * period
    u0 = period / 2.0
    tau = (steps - period).astype(float)
    coefficients = rest_polynomial(history, period, rates)
    gap1 = history[-1][0] - history[-2][0]
    z = tau[:, None] * rates
    phi1, phi2, phi3 = _phi(z)
    t1 = tau[:, None]
    t2 = t1 * t1
    t3 = t2 * t1
    weights = [t1 * phi1, t2 * phi2, 2.0 * t3 * phi3]
    if len(coefficients) == 3:
        error = coefficients[-1] * (u0 * (u0 + gap1) * weights[0] + (2.0 * u0 + gap1) * weights[1] + weights[2])
    else:
        error = coefficients[-1] * (u0 * weights[0] + weights[1])
    horizon = error_horizon(steps, np.minimum(forgetting, 0.0))
    tolerance = horizon * (atol + settings.rtol * np.abs(y_slow)) * scale * prior_factor
    within = (np.abs(error) / tolerance).max(axis=1) <= settings.safety
    allowed = np.argmin(within) if not within.all() else len(steps)
    if allowed == 0:
        return period, None, None, None
    row = allowed - 1
    increment = np.expm1(z[row]) * y_slow + sum(c * w[row] for c, w in zip(coefficients, weights))
    return int(steps[row]), increment, phi2[row], horizon[row]


@pytest.mark.parametrize("order", [2, 3])
def test_compiled_candidate_table_chooses_the_numpy_tables_step_bit_for_bit(order):
    from glucosim.simulation.envelope import EnvelopeSettings, _choose_step

    rng = np.random.default_rng(12)
    settings = EnvelopeSettings()
    n = 14
    chosen_steps = set()
    for _ in range(200):
        y_slow = rng.uniform(0.1, 10.0, n)
        base = rng.normal(0.0, 1e-3, n) * y_slow
        wiggle = 10.0 ** rng.uniform(-14.0, -4.0)  # how far the slopes are from a straight line: sets the step
        slopes = [base * (1.0 + wiggle * rng.normal(0.0, 1.0, n)) for _ in range(order)]
        history = [(day, slope, None, y_slow - rng.normal(0.0, 1e-3, n)) for day, slope in zip((0, 1, 2), slopes)]
        # rates from zero (polynomial only) through the Taylor branch's edge (|z| < 1e-2) to weeks
        rates = -rng.choice([0.0, 1e-5, 1e-3, 0.05, 0.5], n) * rng.uniform(0.5, 2.0, n)
        forgetting = np.where(rng.uniform(size=n) < 0.5, rates, 0.0)
        scale = np.where(rates < 0.0, settings.relaxing_tolerance, 1.0)
        atol = settings.atol * rng.uniform(0.1, 10.0, n)
        prior = float(rng.choice([1.0, settings.prior_factor]))
        longest = int(rng.choice([5, 30, 90]))
        expected = _candidate_table_in_numpy(
            history, 1, longest, y_slow, settings, rates, scale, prior, atol, forgetting
        )
        chosen: dict = {}
        step, increment = _choose_step(
            history, 1, longest, y_slow, settings, rates, scale, prior, atol, forgetting, None, chosen
        )
        assert step == expected[0]
        chosen_steps.add(step)
        if expected[1] is None:
            assert not increment.any() and not chosen
        else:
            assert np.array_equal(increment, expected[1])
            assert np.array_equal(chosen["phi2"], expected[2]) and np.array_equal(chosen["horizon"], expected[3])
    assert len(chosen_steps) > 3  # the draws reach short, middle and the longest steps
