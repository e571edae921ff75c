"""The kidney (physiology/kidney.py): glomerular filtration minus a saturable, splayed tubular reabsorption.

renal_gfr and renal_glucose_tm come from reviews and the textbook; renal_glucose_splay is calibrated to healthy
adults' overnight glucosuria (validation/targets/renal_splay.toml), and the first test checks the table's value
against it and the textbook titration curve. The held-out
comparisons with clamp studies in type 2 diabetes and daily glucosuria are on the validation page
(validation/course/glucosuria.toml), where they can disagree in plain sight.
"""

import math

import numpy as np
import pytest

from glucosim.physiology import kidney
from glucosim.physiology.indices import N_STATES, Par, St
from glucosim.physiology.kidney import renal_excretion_mg_min

GLUCOSE_GRID_MG_DL = np.linspace(20.0, 900.0, 881)


def _gfr_dl_min(p):
    return p[Par.renal_gfr] / 100.0


def _excretion(glucose_mg_dl, p):
    return np.array([renal_excretion_mg_min(float(g), p) for g in np.atleast_1d(glucose_mg_dl)])


def test_calibrated_splay_leaves_a_healthy_kidney_a_trace_and_the_textbook_onset(parameters):
    """Calibrated (validation/targets/renal_splay.toml): at Kim 2017's healthy fasting glucose (5.14 mmol/l) the
    kidney excretes within their overnight interquartile range; at normal glucose that is a trace inside clinical
    laboratories' normal 24-h range (< 0.3 g/day), and at 180 mg/dl, where the textbook puts the onset of
    glucosuria, still under 1 % of the filtered glucose, rising several-fold by 250 mg/dl."""
    from glucosim.calibration.measure import HEALTHY_FASTING_GLUCOSE_KIM_2017_MG_DL
    from glucosim.calibration.targets import load_target_groups

    (kim,) = [t for g in load_target_groups() for t in g.targets if t.name == "renal_excretion_healthy_overnight"]
    assert kim.low < _excretion(HEALTHY_FASTING_GLUCOSE_KIM_2017_MG_DL, parameters)[0] < kim.high
    assert _excretion(100.0, parameters)[0] * 1440.0 / 1000.0 < 0.3
    assert _excretion(180.0, parameters)[0] < 0.01 * _gfr_dl_min(parameters) * 180.0
    assert _excretion(250.0, parameters)[0] > 5.0 * _excretion(180.0, parameters)[0]


def test_saturated_kidney_excretes_filtration_minus_the_transport_maximum(parameters):
    """The textbook's saturation near 22 mmol/l: above ~400 mg/dl every nephron is
    saturated and excretion is GFR x G - TmG (125 mg/min at 400 mg/dl with GFR 125 ml/min, TmG 375 mg/min)."""
    p = parameters
    for glucose in (450.0, 600.0, 900.0):
        saturated = _gfr_dl_min(p) * glucose - p[Par.renal_glucose_tm]
        assert _excretion(glucose, p)[0] == pytest.approx(saturated, rel=5e-3)


def test_excretion_is_bounded_by_filtration_and_reabsorption_by_the_transport_maximum(parameters):
    p = parameters
    excretion = _excretion(GLUCOSE_GRID_MG_DL, p)
    filtered = _gfr_dl_min(p) * GLUCOSE_GRID_MG_DL
    reabsorbed = filtered - excretion
    assert np.all(excretion >= 0.0)
    assert np.all(excretion <= filtered)
    assert np.all(reabsorbed <= p[Par.renal_glucose_tm] * (1.0 + 1e-12))
    # more glucose never means less excreted, nor less reabsorbed: the slope lies between 0 and the GFR
    slopes = np.diff(excretion) / np.diff(GLUCOSE_GRID_MG_DL)
    assert np.all(slopes >= 0.0)
    assert np.all(slopes <= _gfr_dl_min(p) * (1.0 + 1e-9))
    assert np.all(np.diff(reabsorbed) >= -1e-9)


def test_excretion_is_continuous_where_softplus_turns_linear(parameters):
    """The softplus is evaluated as its linear asymptote far above the threshold (no exp overflow)."""
    p = parameters
    threshold = p[Par.renal_glucose_tm] / _gfr_dl_min(p)
    switch = threshold + 30.0 * p[Par.renal_glucose_splay]
    step = 1e-6
    below, above = _excretion(switch - step, p)[0], _excretion(switch + step, p)[0]
    # across the switch the excretion moves by the slope (the GFR there) times the step, with no jump (~3e-12)
    assert above - below == pytest.approx(_gfr_dl_min(p) * 2.0 * step, abs=1e-10)
    assert math.isfinite(_excretion(1e6, p)[0])


def test_sglt2_inhibition_as_measured_lowers_the_threshold_below_40_mg_dl(parameters):
    """Held out (not used for the parameters): 14 days of empagliflozin lowered TmG by 65 % in type 2 diabetes
    and the glucose threshold for glucose in the urine to < 40 mg/dl (Al-Jobori H et al. 2017 Diabetes 66:1999,
    abstract). With TmG lowered 65 %, glucosim's nephron thresholds (2 % of nephrons saturated: the mean
    threshold less s ln 49) sit below 40 mg/dl; the check fails for a splay below ~17 mg/dl."""
    p = parameters.copy()
    p[Par.renal_glucose_tm] *= 1.0 - 0.65
    mean_threshold = p[Par.renal_glucose_tm] / _gfr_dl_min(p)
    assert mean_threshold - p[Par.renal_glucose_splay] * math.log(49.0) < 40.0
    # and at a fasting glucose of 150 mg/dl the treated kidney excretes over 100 times what the untreated one does
    assert _excretion(150.0, p)[0] > 100.0 * _excretion(150.0, parameters)[0]


def test_per_kg_flux_is_the_whole_body_excretion_over_the_starting_weight(parameters):
    y = np.zeros(N_STATES)
    glucose_mg_dl = 320.0
    y[St.glucose_plasma_mg_kg] = glucose_mg_dl * parameters[Par.glucose_distribution_volume]
    per_kg = kidney.renal_excretion(y, parameters)
    assert per_kg == pytest.approx(_excretion(glucose_mg_dl, parameters)[0] / parameters[Par.body_weight], rel=1e-12)
    heavier = parameters.copy()
    heavier[Par.body_weight] *= 2.0
    assert kidney.renal_excretion(y, heavier) == pytest.approx(per_kg / 2.0, rel=1e-12)


def test_glucose_lost_in_the_urine_leaves_the_energy_balance(parameters):
    """Glucosuria is energy absorbed that never reaches the tissues: the body stores that much less (body.py)."""
    from glucosim.physiology import body
    from glucosim.physiology.indices import N_DRIVERS, Drv

    drv = np.zeros(N_DRIVERS)
    drv[Drv.food_energy_kcal_day] = float(body.balance_intake_kcal_day(parameters))
    drv[Drv.daily_steps] = parameters[Par.steps_reference]
    drv[Drv.carbohydrate_g_day] = parameters[Par.carbohydrate_reference]
    normal, high = np.zeros(N_STATES), np.zeros(N_STATES)
    normal[St.glucose_plasma_mg_kg] = 90.0 * parameters[Par.glucose_distribution_volume]
    high[St.glucose_plasma_mg_kg] = 320.0 * parameters[Par.glucose_distribution_volume]
    lost_g_day = (_excretion(320.0, parameters)[0] - _excretion(90.0, parameters)[0]) * 1440.0 / 1000.0
    assert lost_g_day > 30.0  # well above the threshold: tens of grams a day
    difference = body.energy_imbalance_kcal_day(high, drv, parameters) - body.energy_imbalance_kcal_day(
        normal, drv, parameters
    )
    assert difference == pytest.approx(-lost_g_day * parameters[Par.carbohydrate_energy], rel=1e-9)
    # and at normal glucose the healthy trace (a tenth of a gram a day, Kim 2017) is under 0.05 % of the intake
    assert 0.0 < float(body.urinary_glucose_kcal_day(normal, parameters)) < 5e-4 * drv[Drv.food_energy_kcal_day]
