"""The body clock (physiology/clock.py): where its rhythms act, that they average out over a day, and the
derivation of the misalignment loss from Scheer 2009."""

import math

import numpy as np
import pytest

from glucosim.physiology import clock
from glucosim.physiology.indices import N_DRIVERS, N_STATES, Drv, Par, St
from glucosim.simulation.initial_state import _guess
from glucosim.simulation.organ import organ_rhs  # disk-cached: no recompiling the model in each test worker


def _rising_glucose_state(p, clock_cos: float) -> tuple[np.ndarray, np.ndarray]:
    """A fasted state with no insulin yet (so insulin action, and the clock's rhythm of it, play no part) and
    glucose infused, so that glucose rises: both secretion phases respond, at the clock phase given."""
    y = _guess(p)
    for state in (
        St.insulin_plasma_pmol_kg,
        St.insulin_liver_pmol_kg,
        St.insulin_liver_delay1_pmol_l,
        St.insulin_liver_delayed_pmol_l,
        St.insulin_remote_pmol_l,
        St.insulin_portal_pmol_kg,
        St.secretion_second_phase_pmol_kg_min,
        St.secretion_second_phase_slow_pmol_kg_min,
    ):
        y[state] = 0.0
    y[St.glucose_plasma_mg_kg] = 140.0 * p[Par.glucose_distribution_volume]
    y[St.clock_cos], y[St.clock_sin] = clock_cos, 0.0
    drv = np.zeros(N_DRIVERS)
    drv[Drv.iv_glucose_mg_kg_min] = 15.0
    return y, drv


def test_evening_clock_lowers_first_and_second_phase_secretion_alike(parameters):
    # The clock multiplies the beta cells' capacity, which scales both the second-phase dose-response and the
    # first (derivative) phase: Saad 2012 (Diabetes 61:2691) found the oral minimal model's total beta-cell
    # responsivity, static and dynamic, lower at dinner than at breakfast.
    p = parameters.copy()
    p[Par.circadian_liver_amplitude] = 0.0  # same liver output at both phases, so glucose rises alike
    rates = {}
    for phase in (1.0, -1.0):  # biological morning, twelve hours later
        y, drv = _rising_glucose_state(p, phase)
        dydt = np.zeros(N_STATES)
        organ_rhs()(0.0, y, drv, p, dydt)
        # with no secretion yet, second phase moves toward its target and the portal vein receives first phase
        rates[phase] = dydt[St.secretion_second_phase_pmol_kg_min], dydt[St.insulin_portal_pmol_kg]
    for index in (0, 1):
        assert rates[1.0][index] > 0.0
    y = np.zeros(N_STATES)
    y[St.clock_cos] = -1.0
    evening = clock.secretion_factor(y, p)
    y[St.clock_cos] = 1.0
    ratio = evening / clock.secretion_factor(y, p)
    assert ratio < 0.9
    assert rates[-1.0][0] / rates[1.0][0] == pytest.approx(ratio, rel=1e-9)  # second phase
    assert rates[-1.0][1] / rates[1.0][1] == pytest.approx(ratio, rel=1e-9)  # first phase


def test_clock_factors_average_to_one_over_the_day(parameters):
    # a rhythm that did not average to 1 would move the day's mean sensitivity and secretion, and with them the
    # calibrated fasting insulin and mean glucose
    p = parameters
    drv = np.zeros(N_DRIVERS)
    y = np.zeros(N_STATES)
    factors = []
    for minute in range(0, 1440, 5):
        angle = 2.0 * math.pi * minute / 1440.0
        y[St.clock_cos], y[St.clock_sin] = math.cos(angle), math.sin(angle)
        factors.append((clock.secretion_factor(y, p), clock.sensitivity_factor(y, drv, p), clock.liver_factor(y, p)))
    assert np.mean(factors, axis=0) == pytest.approx([1.0, 1.0, 1.0], abs=1e-12)
    assert np.ptp(factors, axis=0).min() > 0.0  # and each is a rhythm


def _scheer_2009_relative_cost(loss: float) -> tuple[float, float, float]:
    """(glucose %, insulin %, the derivation's cost) of glucosim's meal test at 12-h misalignment with
    misalignment_sensitivity_loss = ``loss``, against Scheer 2009 PNAS 106:4453 (glucose +6 % despite insulin +22 %):
    the sum of the squared relative errors that models/parameters.toml#misalignment_sensitivity_loss minimises."""
    from glucosim.validation.cases import misalignment_glucose_insulin_percent

    glucose_percent, insulin_percent = misalignment_glucose_insulin_percent({"misalignment_sensitivity_loss": loss})
    cost = ((glucose_percent - 6.0) / 6.0) ** 2 + ((insulin_percent - 22.0) / 22.0) ** 2
    return glucose_percent, insulin_percent, cost


@pytest.mark.slow  # three derivations of four meal-test days each of the full model
def test_misalignment_loss_is_its_derivation_from_scheer_2009(parameters):
    # misalignment_sensitivity_loss is derived by running glucosim's meal test at 12-h misalignment against Scheer
    # 2009 (least squares in relative error, steps of 0.01); not against Morris 2016, the validation case
    table = float(parameters[Par.misalignment_sensitivity_loss])
    glucose_percent, _, cost = _scheer_2009_relative_cost(table)
    assert glucose_percent == pytest.approx(6.0, abs=1.0)
    assert cost < _scheer_2009_relative_cost(table - 0.01)[2]
    assert cost < _scheer_2009_relative_cost(table + 0.01)[2]


@pytest.mark.xfail(
    strict=True,
    reason="documented disagreement (models/parameters.toml#misalignment_sensitivity_loss): since the second phase's "
    "slow part (2026-12-07) glucosim's beta cells answer misalignment with +18.8 % insulin where Scheer's subjects "
    "gave +22 %, at glucose +6.7 % (Scheer +6 %); no single loss gives both",
)
@pytest.mark.slow  # four meal-test days of the full model
def test_misalignment_loss_reproduces_scheer_2009_insulin(parameters):
    _, insulin_percent, _ = _scheer_2009_relative_cost(float(parameters[Par.misalignment_sensitivity_loss]))
    assert insulin_percent == pytest.approx(22.0, abs=3.0)


@pytest.mark.parametrize(
    ("sleep_midpoint_h", "clock_shift_h", "expected"),
    [
        (3.0, 0.0, 0.0),  # a day-worker: sleep where a daylight-set clock expects it
        (15.0, 0.0, 1.0),  # night work, clock set by daylight: 12 h out of phase
        (12.0, 0.0, 0.75),  # sleeping 08:00-16:00
        (15.0, 12.0, 0.0),  # night work with a clock fully adapted to it
        (1.0, 0.0, 1.0 / 6.0),  # a late sleeper, 2 h off
    ],
)
def test_misalignment_is_the_gap_between_sleep_and_the_clock(sleep_midpoint_h, clock_shift_h, expected):
    from glucosim.scenario.compile import circadian_misalignment
    from glucosim.scenario.schema import Routine

    routine = Routine(sleep_midpoint_h=sleep_midpoint_h, clock_shift_h=clock_shift_h)
    assert circadian_misalignment(routine) == pytest.approx(expected)


def test_aligned_routine_keeps_sensitivity_at_the_clock_rhythm(parameters):
    # misalignment lowers insulin sensitivity only when sleep is out of phase; aligned, only the rhythm acts
    p = parameters
    y = np.zeros(N_STATES)
    drv = np.zeros(N_DRIVERS)
    for c in (1.0, 0.0, -1.0):
        y[St.clock_cos] = c
        drv[Drv.circadian_misalignment] = 0.0
        aligned = clock.sensitivity_factor(y, drv, p)
        assert aligned == pytest.approx(1.0 + p[Par.circadian_sensitivity_amplitude] * c)
        drv[Drv.circadian_misalignment] = 1.0
        loss = p[Par.misalignment_sensitivity_loss]
        assert clock.sensitivity_factor(y, drv, p) == pytest.approx(aligned * (1.0 - loss))
