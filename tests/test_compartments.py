"""Per-compartment unit tests: signs, units and monotonicity of each physiology module."""

import numpy as np
import pytest

from glucosim.physiology import adipose, beta_cells, body, exercise, gut, insulin, liver, muscle, sensitivity
from glucosim.physiology.indices import N_DRIVERS, N_STATES, Drv, Par, St


@pytest.fixture
def state(parameters):
    """A plausible fasting state of the healthy subject."""
    p = parameters
    y = np.zeros(N_STATES)
    y[St.glucose_plasma_mg_kg] = 90.0 * p[Par.glucose_distribution_volume]
    y[St.glucose_tissue_mg_kg] = 130.0
    y[St.insulin_plasma_pmol_kg] = 25.0 * p[Par.insulin_distribution_volume]
    y[St.insulin_liver_pmol_kg] = 3.0
    for index in (St.insulin_liver_delay1_pmol_l, St.insulin_liver_delayed_pmol_l, St.insulin_remote_pmol_l):
        y[index] = 25.0
    y[St.insulin_portal_pmol_kg] = 3.0
    y[St.nefa_mmol_l] = 0.5
    y[St.glucagon_pg_ml] = p[Par.glucagon_basal]
    y[St.liver_glycogen_mg_kg] = p[Par.liver_glycogen_reference]
    y[St.glucose_mean_mg_dl] = p[Par.glucose_setpoint]
    y[St.insulin_mean_pmol_l] = p[Par.insulin_mean_reference]
    y[St.beta_mass_rel] = 1.0
    y[St.beta_function_rel] = 1.0
    y[St.muscle_mass_rel] = 1.0
    y[St.activity_sensitivity_rel] = 1.0
    y[St.liver_fat_pct] = p[Par.liver_fat_reference]
    return y


@pytest.fixture
def drivers(parameters):
    drv = np.zeros(N_DRIVERS)
    drv[Drv.daily_steps] = parameters[Par.steps_reference]
    drv[Drv.cortisol_rel] = 1.0
    drv[Drv.slow_dynamics_on] = 1.0
    return drv


# ---------------------------------------------------------------- gut
def test_gastric_emptying_between_min_and_max(parameters):
    p = parameters
    dose = 1000.0
    rates = [gut.gastric_emptying_rate(q, dose, 1.0, p) for q in np.linspace(0.0, dose, 50)]
    assert min(rates) >= p[Par.gastric_emptying_min] - 1e-12
    assert max(rates) <= p[Par.gastric_emptying_max] + 1e-12
    # emptying slows mid-meal (DM2007 shape): slower at half the dose than at the start
    assert gut.gastric_emptying_rate(0.5 * dose, dose, 1.0, p) < gut.gastric_emptying_rate(dose, dose, 1.0, p)


def test_gut_conserves_glucose(parameters, state, drivers):
    p = parameters
    y = state.copy()
    y[St.stomach_solid_mg_kg], y[St.stomach_liquid_mg_kg], y[St.gut_mg_kg] = 400.0, 200.0, 100.0
    y[St.stomach_speed_carb_mg_kg], y[St.gut_speed_carb_mg_kg] = 600.0, 100.0  # medium speed throughout
    y[St.stomach_emptied_mg_kg] = 200.0  # D = 800
    dydt = np.zeros(N_STATES)
    gut.gut_derivatives(y, p, dydt)
    absorbed = p[Par.gut_absorption_rate] * y[St.gut_mg_kg]
    total = dydt[St.stomach_solid_mg_kg] + dydt[St.stomach_liquid_mg_kg] + dydt[St.gut_mg_kg]
    assert total == pytest.approx(-absorbed, rel=1e-12)
    assert gut.rate_of_appearance(y, p) == pytest.approx(p[Par.gut_bioavailability] * absorbed)


def test_slow_absorption_lowers_appearance(parameters, state):
    y = state.copy()
    y[St.gut_mg_kg] = y[St.gut_speed_carb_mg_kg] = 100.0
    medium = gut.rate_of_appearance(y, parameters)
    y[St.gut_speed_carb_mg_kg] = 100.0 * parameters[Par.absorption_speed_slow]
    assert gut.rate_of_appearance(y, parameters) == pytest.approx(medium * parameters[Par.absorption_speed_slow])


def test_fat_slows_gastric_emptying_of_the_same_carbohydrate():
    from glucosim.calibration.measure import gastric_half_emptying_min

    alone = gastric_half_emptying_min(50.0)
    # Gannon 1993's meal: 50 g starch with 50 g butter (41 g fat) empties much more slowly (issue 11)
    assert gastric_half_emptying_min(50.0, fat_g=41.0) > 1.5 * alone
    # more fat, slower still
    assert gastric_half_emptying_min(50.0, fat_g=10.0) < gastric_half_emptying_min(50.0, fat_g=41.0)


def test_without_fat_the_duodenal_brake_changes_nothing(parameters, state, drivers):
    from glucosim.calibration.measure import gastric_half_emptying_min

    p = parameters.copy()
    y = state.copy()
    y[St.stomach_solid_mg_kg], y[St.stomach_liquid_mg_kg], y[St.gut_mg_kg] = 400.0, 200.0, 100.0
    y[St.stomach_speed_carb_mg_kg], y[St.gut_speed_carb_mg_kg] = 600.0, 100.0
    y[St.stomach_emptied_mg_kg] = 200.0  # D = 800
    # protein but no fat: protein acts through the energy cap only
    y[St.stomach_protein_mg_kg], y[St.gut_protein_mg_kg] = 300.0, 50.0
    assert gut.duodenal_brake(y, p) == 1.0
    before = np.zeros(N_STATES)
    gut.gut_derivatives(y, p, before)
    p[Par.duodenal_fat_brake_half_kcal] = 1.0
    after = np.zeros(N_STATES)
    gut.gut_derivatives(y, p, after)
    np.testing.assert_array_equal(before, after)
    # a carbohydrate-only meal's emptying does not depend on the brake's strength
    assert gastric_half_emptying_min(50.0, parameters=p) == pytest.approx(gastric_half_emptying_min(50.0), rel=1e-9)


def test_duodenal_fat_brake_reproduces_its_calibration():
    from glucosim.calibration.measure import (
        FAT_BRAKE_MEAL,
        FAT_BRAKE_TARGET_HALF_EMPTYING_MIN,
        gastric_half_emptying_min,
    )

    # the table's value gives Houghton 1990's 120-min half-emptying of consomme with 60 g margarine
    assert gastric_half_emptying_min(**FAT_BRAKE_MEAL) == pytest.approx(FAT_BRAKE_TARGET_HALF_EMPTYING_MIN, abs=1.0)


def test_fat_holds_back_the_first_hour_of_carbohydrate_appearance():
    from glucosim.calibration.measure import absorbed_carbohydrate_fraction

    # Knuth 2008 (PMC2636944): 100 g carbohydrate and 30 g protein with 31 g fat against 1 g: the first hour's
    # [13C]glucose appearance 687 against 1206 uM*h (0.57); without the brake glucosim gives ~0.82
    ratio = absorbed_carbohydrate_fraction(100.0, 31.0, 30.0, 60.0) / absorbed_carbohydrate_fraction(
        100.0, 1.0, 30.0, 60.0
    )
    assert 0.45 < ratio < 0.78


def test_a_fat_free_dinner_has_left_the_stomach_by_the_next_morning():
    from glucosim.calibration.measure import stomach_fraction_left

    # scenario 32's dinner (80 g carbohydrate, 35 g protein) without its fat: DM2007's emptying and the energy cap
    # leave nothing for the fasting sample 12.5 h later
    assert stomach_fraction_left(80.0, 0.0, 35.0, 12.0) < 1e-4


@pytest.mark.xfail(
    strict=True, reason="known limit (gut.py docstring): the fat brake delays a fat-rich dinner into DM2007's kmin tail"
)
def test_a_fat_rich_dinner_has_left_the_stomach_by_the_next_morning():
    from glucosim.calibration.measure import stomach_fraction_left

    # scintigraphy of mixed meals: >90 % emptied by 4-6 h; scenario 32's dinner leaves ~2.3 % after 12 h
    assert stomach_fraction_left(80.0, 30.0, 35.0, 12.0) < 1e-3


def test_larger_meals_of_one_composition_empty_more_slowly():
    from glucosim.calibration.measure import gastric_half_emptying_min

    # J Nucl Med 1989 30:1106 (40/40/20 % carbohydrate/protein/fat, 150/300/600 kcal): 57, 70, 95 min, +38 in all
    times = [
        gastric_half_emptying_min(kcal * 0.1, fat_g=kcal * 0.2 / 9.0, protein_g=kcal * 0.1) for kcal in (150, 300, 600)
    ]
    assert 8.0 < times[1] - times[0] < 20.0
    assert 18.0 < times[2] - times[1] < 35.0


# ---------------------------------------------------------------- liver
def test_liver_output_falls_with_insulin_and_rises_with_resistance_and_cortisol(parameters, state):
    p = parameters
    base = liver.liver_glucose_output(state, p, 1.0, 1.0, 1.0)
    assert base > 0.0
    more_insulin = state.copy()
    more_insulin[St.insulin_liver_delayed_pmol_l] *= 3.0
    more_insulin[St.insulin_portal_pmol_kg] *= 3.0
    assert liver.liver_glucose_output(more_insulin, p, 1.0, 1.0, 1.0) < base
    assert liver.liver_glucose_output(state, p, 0.5, 1.0, 1.0) > base  # hepatic resistance
    assert liver.liver_glucose_output(state, p, 1.0, 1.0, 2.0) > base  # cortisol
    assert liver.liver_glucose_output(state, p, 1.0, 2.0, 1.0) > base  # NEFA


def test_liver_output_never_negative(parameters, state):
    flooded = state.copy()
    flooded[St.insulin_liver_delayed_pmol_l] = 5000.0
    flooded[St.insulin_portal_pmol_kg] = 500.0
    assert liver.liver_glucose_output(flooded, parameters, 1.0, 1.0, 1.0) == 0.0


def test_basal_liver_output_near_dalla_man(parameters, state):
    # DM2007 normal subject: basal EGP about 1.9-2.0 mg/kg/min at G ~ 90, insulin 25 pmol/l
    assert 1.5 < liver.liver_glucose_output(state, parameters, 1.0, 1.0, 1.0) < 2.5


# ---------------------------------------------------------------- muscle and adipose
def test_muscle_uptake_rises_with_insulin_and_sensitivity(parameters, state):
    p = parameters
    base = muscle.muscle_insulin_uptake(state, p, 1.0, 1.0)
    richer = state.copy()
    richer[St.insulin_remote_pmol_l] = 200.0
    assert muscle.muscle_insulin_uptake(richer, p, 1.0, 1.0) > base
    assert muscle.muscle_insulin_uptake(richer, p, 0.5, 1.0) < muscle.muscle_insulin_uptake(richer, p, 1.0, 1.0)
    assert muscle.muscle_insulin_uptake(richer, p, 1.0, 3.0) < muscle.muscle_insulin_uptake(richer, p, 1.0, 1.0)


def test_adipose_share_of_uptake(parameters, state):
    p = parameters
    muscle_uptake = muscle.muscle_insulin_uptake(state, p, 1.0, 1.0)
    adipose_uptake = adipose.adipose_glucose_uptake(state, p, 1.0)
    assert adipose_uptake / (muscle_uptake + adipose_uptake) == pytest.approx(p[Par.adipose_uptake_fraction])


def test_splanchnic_share_is_booked_out_of_tissue_uptake(parameters, state):
    p = parameters
    # muscle, fat and the splanchnic bed together take DM2007's tissue uptake (Vm0 + Vmx (I - Ib)) Gt / (Km0 + Gt)
    for insulin_pmol_l in (10.0, 25.0, 200.0):
        y = state.copy()
        y[St.insulin_remote_pmol_l] = insulin_pmol_l
        total = (
            muscle.muscle_insulin_uptake(y, p, 1.0, 1.0)
            + adipose.adipose_glucose_uptake(y, p, 1.0)
            + muscle.splanchnic_uptake(y, p)
        )
        dm2007 = (
            p[Par.tissue_uptake_vmax_basal]
            + p[Par.tissue_uptake_vmax_insulin] * (insulin_pmol_l - p[Par.insulin_basal_reference])
        ) * muscle.tissue_saturation(y, p)
        assert total == pytest.approx(dm2007)
    # the splanchnic share is insulin-independent: it is the same at any insulin
    richer = state.copy()
    richer[St.insulin_remote_pmol_l] = 200.0
    assert muscle.splanchnic_uptake(richer, p) == muscle.splanchnic_uptake(state, p) > 0.0
    # ... and none of it is muscle's or fat's: without the split they would take it all
    unsplit = p.copy()
    unsplit[Par.splanchnic_uptake_fraction] = 0.0
    assert muscle.splanchnic_uptake(state, unsplit) == 0.0
    assert muscle.muscle_insulin_uptake(state, unsplit, 1.0, 1.0) > muscle.muscle_insulin_uptake(state, p, 1.0, 1.0)


def test_exercise_uptake_scales_with_state_and_vanishes_without_glucose(parameters, state):
    y = state.copy()
    y[St.exercise_uptake_mg_kg_min] = 1.6
    y[St.glucose_tissue_mg_kg] = parameters[Par.exercise_uptake_reference_tissue_glucose]
    assert muscle.muscle_exercise_uptake(y, parameters) == pytest.approx(1.6)
    y[St.glucose_tissue_mg_kg] = 0.0
    assert muscle.muscle_exercise_uptake(y, parameters) == 0.0


def test_lipolysis_suppressed_by_insulin_and_less_in_resistance(parameters, state):
    p = parameters
    fasting = adipose.lipolysis_rate(state, p, 1.0)
    fed = state.copy()
    fed[St.insulin_remote_pmol_l] = 300.0
    assert adipose.lipolysis_rate(fed, p, 1.0) < 0.3 * fasting
    assert adipose.lipolysis_rate(fed, p, 0.4) > adipose.lipolysis_rate(fed, p, 1.0)


def test_nefa_steady_at_reference_for_healthy_basal_insulin(parameters, state):
    y = state.copy()
    y[St.insulin_remote_pmol_l] = parameters[Par.insulin_basal_reference]
    y[St.nefa_mmol_l] = parameters[Par.nefa_reference]
    dydt = np.zeros(N_STATES)
    adipose.nefa_derivative(y, parameters, 1.0, dydt)
    assert dydt[St.nefa_mmol_l] == pytest.approx(0.0, abs=1e-12)


# ---------------------------------------------------------------- kidney: tests/test_kidney.py


# ---------------------------------------------------------------- insulin
def test_hepatic_extraction_falls_with_secretion_but_saturates(parameters):
    """DM2007's slope m5 at low secretion, a fall of at most hepatic_extraction_fall_max at high secretion, and never
    below 0 (a fall larger than m6 is refused by neither range, so the floor is checked too)."""
    p = parameters
    m5, m6, fall_max = (
        p[Par.hepatic_extraction_secretion_slope],
        p[Par.hepatic_extraction_max],
        p[Par.hepatic_extraction_fall_max],
    )
    assert insulin.hepatic_extraction(0.0, p) == pytest.approx(m6)
    assert insulin.hepatic_extraction(5.0, p) < insulin.hepatic_extraction(1.0, p)
    # the initial slope is DM2007's linear one
    assert (m6 - insulin.hepatic_extraction(1e-4, p)) / 1e-4 == pytest.approx(m5, rel=1e-3)
    # the fall saturates: half of it at m5 S = fall_max, nearly all of it at a secretion no test reaches
    assert insulin.hepatic_extraction(fall_max / m5, p) == pytest.approx(m6 - 0.5 * fall_max)
    assert insulin.hepatic_extraction(1e6, p) == pytest.approx(m6 - fall_max, rel=1e-4)
    deeper = p.copy()
    deeper[Par.hepatic_extraction_fall_max] = 2.0 * m6
    assert insulin.hepatic_extraction(1e6, deeper) == 0.0


def test_insulin_kinetics_conserve_mass_without_clearance(parameters, state):
    p = parameters.copy()
    p[Par.insulin_peripheral_clearance_rate] = 0.0
    p[Par.hepatic_extraction_max] = 0.0
    p[Par.hepatic_extraction_secretion_slope] = 0.0
    dydt = np.zeros(N_STATES)
    insulin.insulin_derivatives(state, p, 2.0, 0.0, dydt)
    assert dydt[St.insulin_liver_pmol_kg] + dydt[St.insulin_plasma_pmol_kg] == pytest.approx(2.0)


# ---------------------------------------------------------------- beta cells
def test_secretion_rises_with_glucose_and_capacity(parameters):
    p = parameters
    levels = [beta_cells.second_phase_target(g, 1.0, p) for g in (70.0, 90.0, 140.0, 200.0, 300.0)]
    assert all(a < b for a, b in zip(levels, levels[1:]))
    assert levels[-1] < p[Par.secretion_max]
    assert beta_cells.second_phase_target(140.0, 2.0, p) == pytest.approx(
        2.0 * beta_cells.second_phase_target(140.0, 1.0, p)
    )


def test_healthy_basal_secretion_is_human_and_gives_human_fasting_insulin(parameters):
    """The second phase's secretion at a healthy fasting glucose lies in the published range of basal secretion
    (the held-out target fasting_insulin_secretion: Eaton 1980, 1.3 +- 0.35 pmol/kg/min), and through the insulin
    kinetics' steady state gives a fasting insulin inside the fit target's range (validation/targets/
    insulin_kinetics.toml): the dose-response and the kinetics agree at fasting, which the fit asks only of the
    whole model. ~1.0 pmol/kg/min, below DM2007's Sb = 1.55, whose subjects cleared insulin faster (m4 0.194 per
    min against glucosim's calibrated ~0.11)."""
    from glucosim.calibration.targets import fit_targets, held_out_targets, load_target_groups
    from glucosim.physiology.units import PMOL_L_PER_UU_ML

    groups = load_target_groups()
    (fasting,) = [t for t in fit_targets(groups) if t.name == "fasting_insulin_healthy"]
    (basal,) = [t for t in held_out_targets(groups) if t.name == "fasting_insulin_secretion"]
    p = parameters
    secretion = beta_cells.second_phase_target(90.0, 1.0, p)
    assert basal.low < secretion < basal.high
    m1, m2, m4 = (
        p[Par.insulin_liver_to_plasma_rate],
        p[Par.insulin_plasma_to_liver_rate],
        p[Par.insulin_peripheral_clearance_rate],
    )
    extraction = insulin.hepatic_extraction(secretion, p)
    m3 = extraction * m1 / (1.0 - extraction)
    # d(liver)/dt = 0 and d(plasma)/dt = 0 of insulin_derivatives, solved for the two pools
    liver = secretion / (m1 + m3 - m1 * m2 / (m2 + m4))
    plasma_pmol_l = m1 * liver / (m2 + m4) / p[Par.insulin_distribution_volume]
    assert fasting.low < plasma_pmol_l / PMOL_L_PER_UU_ML < fasting.high


def test_first_phase_only_when_glucose_rises(parameters, state):
    y = state.copy()
    y[St.secretion_second_phase_pmol_kg_min] = 1.0
    y[St.secretion_second_phase_slow_pmol_kg_min] = 0.0
    assert beta_cells.portal_secretion(y, parameters, -2.0, 1.0) == pytest.approx(1.0)
    demand = 2.0 * parameters[Par.secretion_first_phase_gain]  # DM2007's K dG/dt
    pool = beta_cells.first_phase_pool(y, parameters)  # 1 within 1e-5 here (the priming's smoothing)
    assert pool == pytest.approx(1.0, abs=1e-5)
    assert beta_cells.portal_secretion(y, parameters, 2.0, 1.0) == pytest.approx(
        1.0 + pool * demand / (1.0 + demand / parameters[Par.first_phase_max_rate])
    )


def test_first_phase_saturates_at_its_highest_rate(parameters):
    """A meal's rise (~2 mg/dl/min) is nearly DM2007's linear term; an intravenous bolus's (~150 mg/dl/min) is held
    near first_phase_max_rate instead of ~70 times a meal's (the healthy AIRg was ~280 uU/ml with the linear term)."""
    gain, highest = parameters[Par.secretion_first_phase_gain], parameters[Par.first_phase_max_rate]
    assert beta_cells.first_phase_rate(2.0, parameters) > 0.95 * 2.0 * gain
    bolus = beta_cells.first_phase_rate(150.0, parameters)
    assert 0.5 * highest < bolus < highest < 150.0 * gain
    assert beta_cells.first_phase_rate(1e9, parameters) == pytest.approx(highest, rel=1e-6)


def test_sleep_deficit_brakes_secretion(parameters, state, drivers):
    rested = beta_cells.secretion_capacity(state, drivers, parameters)
    drivers[Drv.sleep_deficit_h] = 4.0
    assert beta_cells.secretion_capacity(state, drivers, parameters) < rested


def _load(glucose_mean_mg_dl, p):
    """The glucotoxic load at a running mean glucose, at the subject's own set point (no adaptation)."""
    return beta_cells.glucotoxicity(glucose_mean_mg_dl, beta_cells.compensation_setpoint(np.zeros(N_STATES), p), p)


def _slow(y, p):
    """(d function/dt, d mass/dt) with the running mean glucose sustained: the weeks-long mean, which mass follows,
    at the same level."""
    y = y.copy()
    y[St.glucose_baseline_mg_dl] = y[St.glucose_mean_mg_dl]
    dydt = np.zeros(N_STATES)
    beta_cells.beta_slow_derivatives(y, p, 1.0, dydt)
    return dydt[St.beta_function_rel], dydt[St.beta_mass_rel]


def test_beta_cells_grow_above_setpoint_and_shrink_below(parameters, state):
    p = parameters
    high = state.copy()
    # just above the set point, where the (quadratic) glucotoxic load is still small: compensation wins
    high[St.glucose_mean_mg_dl] = p[Par.glucose_setpoint] + 2.0
    high[St.nefa_mmol_l] = p[Par.nefa_mean_reference]
    low = state.copy()
    low[St.glucose_mean_mg_dl] = p[Par.glucose_setpoint] - 10.0
    assert all(rate > 0.0 for rate in _slow(high, p))
    assert all(rate < 0.0 for rate in _slow(low, p))


def test_growth_stops_at_reserve(parameters, state):
    p = parameters
    y = state.copy()
    y[St.glucose_mean_mg_dl] = p[Par.glucose_setpoint] + 10.0
    y[St.beta_function_rel] = p[Par.beta_function_max]
    y[St.beta_mass_rel] = p[Par.beta_mass_max]
    assert all(rate <= 0.0 for rate in _slow(y, p))


def test_glucotoxicity_erodes_function_and_mass(parameters, state):
    p = parameters
    y = state.copy()
    y[St.glucose_mean_mg_dl] = 2.0 * p[Par.glucotoxicity_threshold]
    function_rate, mass_rate = _slow(y, p)
    assert function_rate < 0.0 and mass_rate < 0.0
    assert _load(p[Par.glucotoxicity_threshold], p) == pytest.approx(0.5)


def test_glucotoxicity_is_small_through_prediabetes_and_absent_at_the_set_point(parameters):
    p = parameters
    assert _load(p[Par.glucose_setpoint], p) == 0.0
    # mean glucose of HbA1c 5.7 %, ~6.0 % and 6.5 % (ADAG: 28.7 x HbA1c - 46.7), then well into diabetes
    loads = [_load(g, p) for g in (110.0, 117.0, 125.0, 140.0, 180.0, 300.0)]
    assert all(a < b for a, b in zip(loads, loads[1:], strict=False))
    # prediabetes is a stable stage (Weir & Bonner-Weir 2004): the load is small up to HbA1c ~6.0 % ...
    assert loads[1] < 0.01 and loads[2] < 0.1
    # ... graded across HbA1c ~6.5 %, not a switch at one glucose (at 140 mg/dl: 0.76 with the half-maximum at
    # 134 mg/dl, 2026-12-04 night to 2026-12-05; 0.67 at 136 before; lower at 135 since), and near its maximum in
    # diabetes
    assert 0.25 < loads[3] < 0.8 < 0.9 < loads[4] < loads[-1] < 1.0


def test_nefa_accelerates_the_loss_only_with_raised_glucose(parameters, state):
    p = parameters
    y = state.copy()
    y[St.glucose_mean_mg_dl] = p[Par.glucotoxicity_threshold]
    y[St.beta_mass_rel] = p[Par.beta_mass_max]  # no growth: the loss alone
    y[St.nefa_mmol_l] = p[Par.nefa_mean_reference]
    _, reference_loss = _slow(y, p)
    y[St.nefa_mmol_l] = 2.0 * p[Par.nefa_mean_reference]
    _, fatty_loss = _slow(y, p)
    assert fatty_loss < reference_loss < 0.0
    y[St.glucose_mean_mg_dl] = p[Par.glucose_setpoint]
    fatty_at_setpoint = _slow(y, p)[1]
    y[St.nefa_mmol_l] = p[Par.nefa_mean_reference]
    # NEFA alone does not wear the beta cells (what remains at the set point is the demand-driven loss of a mass at
    # its cap, beta_mass_workload_rate, the same with and without the fatty acids)
    assert fatty_at_setpoint == _slow(y, p)[1] > reference_loss


def test_mass_loss_stops_at_its_floor(parameters, state):
    p = parameters
    y = state.copy()
    y[St.glucose_mean_mg_dl] = 300.0
    y[St.beta_mass_rel] = p[Par.beta_mass_floor]
    y[St.beta_function_rel] = p[Par.beta_function_floor]
    function_rate, mass_rate = _slow(y, p)
    assert mass_rate >= 0.0 and function_rate >= 0.0


def test_frozen_slow_dynamics(parameters, state):
    dydt = np.zeros(N_STATES)
    y = state.copy()
    y[St.glucose_mean_mg_dl] = 200.0
    beta_cells.beta_slow_derivatives(y, parameters, 0.0, dydt)
    assert dydt[St.beta_function_rel] == 0.0 and dydt[St.beta_mass_rel] == 0.0


# ---------------------------------------------------------------- exercise, sensitivity, body
def test_exercise_uptake_steady_state_is_roy_parker(parameters, state, drivers):
    p = parameters
    y = state.copy()
    y[St.exercise_vo2_pct] = 40.0
    y[St.exercise_uptake_mg_kg_min] = p[Par.exercise_uptake_gain] / p[Par.exercise_uptake_decay] * 40.0
    drivers[Drv.exercise_intensity_pct] = 40.0
    dydt = np.zeros(N_STATES)
    exercise.exercise_derivatives(y, drivers, p, 1.0, dydt)
    assert dydt[St.exercise_uptake_mg_kg_min] == pytest.approx(0.0, abs=1e-12)
    assert y[St.exercise_uptake_mg_kg_min] == pytest.approx(0.0402 * 40.0, rel=1e-3)  # RP2007: a3/a4 = 0.0402
    assert dydt[St.post_exercise_sensitivity] > 0.0 and dydt[St.training_level] > 0.0


def test_sensitivity_levers(parameters, state, drivers):
    p = parameters
    liver0, muscle0, adipose0 = sensitivity.effective_sensitivities(state, drivers, p)
    assert (liver0, muscle0, adipose0) == pytest.approx((1.0, 1.0, 1.0), rel=0.05)
    sleepy = drivers.copy()
    sleepy[Drv.sleep_deficit_h] = 4.5
    stimulated = state.copy()
    stimulated[St.insulin_remote_pmol_l] = 4.0 * p[Par.insulin_basal_reference]
    muscle_stimulated = sensitivity.effective_sensitivities(stimulated, drivers, p)[1]
    muscle1 = sensitivity.effective_sensitivities(stimulated, sleepy, p)[1]
    # a short night removes the fraction c * deficit of the insulin action above basal (here 3/4 of it)
    assert muscle1 == pytest.approx(muscle_stimulated * (1 - 0.75 * 4.5 * p[Par.sleep_peripheral_sensitivity_loss]))
    trained = state.copy()
    trained[St.training_level] = 0.25
    assert sensitivity.effective_sensitivities(trained, drivers, p)[1] == pytest.approx(1.25 * muscle0)
    hyper = state.copy()
    hyper[St.insulin_mean_pmol_l] *= 2.0
    assert sensitivity.chronic_sensitivities(hyper, p)[0] < liver0
    heavier = state.copy()
    heavier[St.weight_change_kg] = 7.5
    assert sensitivity.chronic_sensitivities(heavier, p)[1] < muscle0


def test_short_night_spares_basal_insulin_action(parameters, state, drivers):
    """The sleep deficit blunts insulin action above basal only: none at basal insulin, c*d of the rest above."""
    p = parameters
    basal = p[Par.insulin_basal_reference]
    assert sensitivity.sleep_factor(0.07, 4.0, basal, basal) == 1.0
    assert sensitivity.sleep_factor(0.07, 4.0, 0.5 * basal, basal) == 1.0
    # effective action s * I falls by c * d * (I - Ib), the stimulated part
    insulin = 5.0 * basal
    action = sensitivity.sleep_factor(0.07, 4.0, insulin, basal) * insulin
    assert action == pytest.approx(insulin - 0.07 * 4.0 * (insulin - basal))
    assert sensitivity.sleep_factor(0.5, 10.0, insulin, basal) == 0.0  # never negative
    # the liver's factor reads its delayed insulin: at basal it is untouched whatever the deficit
    sleepy = drivers.copy()
    sleepy[Drv.sleep_deficit_h] = 4.0
    fasting = state.copy()
    fasting[St.insulin_remote_pmol_l] = basal
    fasting[St.insulin_liver_delayed_pmol_l] = basal
    assert sensitivity.effective_sensitivities(fasting, sleepy, p) == pytest.approx(
        sensitivity.effective_sensitivities(fasting, drivers, p)
    )


def test_energy_balance_moves_fat_and_lean_in_forbes_partition(parameters, state, drivers):
    p = parameters
    dydt = np.zeros(N_STATES)
    # balance: the intake covers expenditure and the trace of glucose in normal urine (~0.04 kcal/day here),
    # less the thermic effect of eating it
    drivers[Drv.food_energy_kcal_day] = body.balance_intake_kcal_day(p) + body.urinary_glucose_kcal_day(state, p) / (
        1.0 - p[Par.thermic_effect_fraction]
    )
    drivers[Drv.carbohydrate_g_day] = p[Par.carbohydrate_reference]  # glycogen and fluid stay where they are
    body.body_derivatives(state, drivers, p, 1.0, dydt)
    assert dydt[St.weight_change_kg] == pytest.approx(0.0, abs=1e-12)  # at balance nothing moves
    drivers[Drv.energy_surplus_kcal_day] = 500.0
    body.body_derivatives(state, drivers, p, 1.0, dydt)
    fat_rate, weight_rate = dydt[St.fat_mass_change_kg], dydt[St.weight_change_kg]
    assert 0.0 < fat_rate < weight_rate
    # Forbes: lean share of the stored energy is C / (C + F), C = 10.4 kg * rho_L / rho_F
    forbes = p[Par.forbes_constant] * p[Par.lean_energy_density] / p[Par.fat_energy_density]
    fat = p[Par.body_weight] * p[Par.body_fat_fraction]
    lean_energy = (weight_rate - fat_rate) * (p[Par.lean_energy_density] + p[Par.lean_deposition_cost])
    fat_energy = fat_rate * (p[Par.fat_energy_density] + p[Par.fat_deposition_cost])
    assert lean_energy / (lean_energy + fat_energy) == pytest.approx(forbes / (forbes + fat))
    # the thermic effect of food spends beta_TEF of the extra intake at once
    assert (lean_energy + fat_energy) * 1440.0 == pytest.approx(500.0 * (1.0 - p[Par.thermic_effect_fraction]))
    assert dydt[St.adaptive_thermogenesis_kcal_day] > 0.0


def test_exercise_and_fasting_spend_energy(parameters, state, drivers):
    p = parameters
    dydt = np.zeros(N_STATES)
    drivers[Drv.food_energy_kcal_day] = body.balance_intake_kcal_day(p)
    drivers[Drv.carbohydrate_g_day] = p[Par.carbohydrate_reference]
    moving = state.copy()
    moving[St.exercise_vo2_pct] = 40.0
    # 40 % VO2max above a resting 8 % is 5 METs above rest: 5 kcal/kg/h
    assert body.exercise_expenditure_kcal_day(moving, p) == pytest.approx(40.0 / 8.0 * 75.0 * 24.0)
    body.body_derivatives(moving, drivers, p, 1.0, dydt)
    assert dydt[St.weight_change_kg] < 0.0
    drivers[Drv.food_energy_kcal_day] = 0.0
    body.body_derivatives(state, drivers, p, 1.0, dydt)
    assert dydt[St.weight_change_kg] < 0.0 and dydt[St.fat_mass_change_kg] < 0.0


def test_glycogen_and_its_water_leave_on_a_low_carbohydrate_diet(parameters, state, drivers):
    p = parameters
    dydt = np.zeros(N_STATES)
    # energy balance, the urine's trace of glucose included
    drivers[Drv.food_energy_kcal_day] = body.balance_intake_kcal_day(p) + body.urinary_glucose_kcal_day(state, p) / (
        1.0 - p[Par.thermic_effect_fraction]
    )
    drivers[Drv.carbohydrate_g_day] = p[Par.carbohydrate_reference] / 3.0  # same energy, a third of the carbohydrate
    body.body_derivatives(state, drivers, p, 1.0, dydt)
    glycogen, fluid = dydt[St.body_glycogen_change_kg], dydt[St.extracellular_fluid_change_kg]
    assert glycogen < 0.0 and fluid < 0.0
    # the glycogen leaves with its bound water (3.7 kg of weight per kg), the fluid as it is
    tissue = dydt[St.weight_change_kg] - p[Par.glycogen_weight_factor] * glycogen - fluid
    # weight falls by the water, less the little tissue that the glycogen's energy builds at energy balance
    assert p[Par.glycogen_weight_factor] * glycogen + fluid < dydt[St.weight_change_kg] < 0.0
    # ... and its energy is spent first: at energy balance the fat and lean tissue gain what the glycogen gave
    fat_rate = dydt[St.fat_mass_change_kg]
    lean_energy = (tissue - fat_rate) * (p[Par.lean_energy_density] + p[Par.lean_deposition_cost])
    fat_energy = fat_rate * (p[Par.fat_energy_density] + p[Par.fat_deposition_cost])
    assert lean_energy + fat_energy == pytest.approx(-p[Par.glycogen_energy_density] * glycogen)
    assert fat_rate > 0.0


def test_glycogen_and_fluid_settle_at_hall_steady_state(parameters, state, drivers):
    p = parameters
    dydt = np.zeros(N_STATES)
    drivers[Drv.food_energy_kcal_day] = body.balance_intake_kcal_day(p)
    ratio = 0.25
    drivers[Drv.carbohydrate_g_day] = ratio * p[Par.carbohydrate_reference]
    settled = state.copy()
    # Hall 2011: G = G_0 sqrt(CI / CI_ref); extracellular fluid - zeta_CI / zeta_Na (1 - CI / CI_ref)
    settled[St.body_glycogen_change_kg] = p[Par.body_glycogen_reference] * (np.sqrt(ratio) - 1.0)
    settled[St.extracellular_fluid_change_kg] = (
        -p[Par.ecf_carbohydrate_sodium] * (1.0 - ratio) / p[Par.ecf_sodium_excretion]
    )
    body.body_derivatives(settled, drivers, p, 1.0, dydt)
    assert dydt[St.body_glycogen_change_kg] == pytest.approx(0.0, abs=1e-12)
    assert dydt[St.extracellular_fluid_change_kg] == pytest.approx(0.0, abs=1e-12)
    # on the reference carbohydrate nothing moves; frozen slow dynamics freeze them too
    drivers[Drv.carbohydrate_g_day] = p[Par.carbohydrate_reference]
    body.body_derivatives(state, drivers, p, 1.0, dydt)
    assert dydt[St.body_glycogen_change_kg] == 0.0 and dydt[St.extracellular_fluid_change_kg] == 0.0
    drivers[Drv.carbohydrate_g_day] = 0.0
    body.body_derivatives(state, drivers, p, 0.0, dydt)
    assert dydt[St.body_glycogen_change_kg] == 0.0 and dydt[St.extracellular_fluid_change_kg] == 0.0


def test_carbohydrate_excess_stores_glycogen_but_retains_no_extra_fluid(parameters, state, drivers):
    p = parameters
    dydt = np.zeros(N_STATES)
    drivers[Drv.food_energy_kcal_day] = body.balance_intake_kcal_day(p)
    drivers[Drv.carbohydrate_g_day] = 4.0 * p[Par.carbohydrate_reference]
    body.body_derivatives(state, drivers, p, 1.0, dydt)
    assert dydt[St.body_glycogen_change_kg] > 0.0
    assert dydt[St.extracellular_fluid_change_kg] == 0.0


def test_water_weight_does_not_move_insulin_sensitivity(parameters, state):
    p = parameters
    watery = state.copy()
    watery[St.body_glycogen_change_kg] = -0.2
    watery[St.extracellular_fluid_change_kg] = -0.9
    watery[St.weight_change_kg] = body.water_weight_change_kg(watery, p)  # all of the loss is water
    assert body.tissue_weight_change_kg(watery, p) == pytest.approx(0.0)
    assert sensitivity.chronic_sensitivities(watery, p) == pytest.approx(sensitivity.chronic_sensitivities(state, p))
    leaner = state.copy()
    leaner[St.weight_change_kg] = -1.1  # the same loss as tissue raises sensitivity
    assert sensitivity.chronic_sensitivities(leaner, p)[1] > sensitivity.chronic_sensitivities(state, p)[1]


def test_mifflin_resting_expenditure(parameters):
    p = parameters.copy()
    # Mifflin 1990: 9.99 W + 6.25 H - 4.92 A + 5 for a man; -161 for a woman
    assert body.resting_expenditure_kcal_day(p) == pytest.approx(9.99 * 75 + 6.25 * 175 - 4.92 * 40 + 5)
    p[Par.sex_female] = 1.0
    assert body.resting_expenditure_kcal_day(p) == pytest.approx(9.99 * 75 + 6.25 * 175 - 4.92 * 40 - 161)


def test_resistance_builds_muscle_aerobic_builds_training_and_steps_set_activity(parameters, state, drivers):
    p = parameters
    y = state.copy()
    y[St.muscle_mass_rel] = 1.0
    y[St.activity_sensitivity_rel] = 1.0
    y[St.exercise_vo2_pct] = 50.0
    drivers[Drv.daily_steps] = p[Par.steps_reference]
    dydt = np.zeros(N_STATES)
    drivers[Drv.resistance_exercise] = 1.0
    exercise.exercise_derivatives(y, drivers, p, 1.0, dydt)
    assert dydt[St.muscle_mass_rel] > 0.0 and dydt[St.training_level] == 0.0
    assert dydt[St.activity_sensitivity_rel] == 0.0  # habitual steps: no change
    drivers[Drv.resistance_exercise] = 0.0
    exercise.exercise_derivatives(y, drivers, p, 1.0, dydt)
    assert dydt[St.training_level] > 0.0 and dydt[St.muscle_mass_rel] == 0.0
    drivers[Drv.daily_steps] = 0.2 * p[Par.steps_reference]
    assert exercise.activity_sensitivity_target(drivers, p) == pytest.approx(
        1.0 - 0.8 * p[Par.inactivity_sensitivity_loss]
    )
    # insulin-stimulated muscle sensitivity scales with muscle mass and activity
    base = sensitivity.chronic_sensitivities(y, p)[1]
    y[St.muscle_mass_rel], y[St.activity_sensitivity_rel] = 1.1, 0.5
    assert sensitivity.chronic_sensitivities(y, p)[1] == pytest.approx(base * 1.1 * 0.5)


def test_a_kernel_run_as_plain_python_gives_the_compiled_value(parameters):
    # the scenario compiler runs body's energy balance as plain Python (no compilation in a fresh worker)
    from glucosim.physiology import body
    from glucosim.physiology._jit import as_python

    plain = as_python(body.balance_intake_kcal_day)
    assert plain(parameters) == body.balance_intake_kcal_day(parameters)
    assert plain.__globals__["resting_expenditure_kcal_day"] is body.resting_expenditure_kcal_day.py_func
    assert as_python(body.resting_expenditure_kcal_day) is body.resting_expenditure_kcal_day.py_func


# ------------------------------------------------------------------ fat's GIP (gut.fat_gip_potentiation)
def test_fats_gip_potentiates_only_above_fasting_glucose_and_less_under_glucotoxicity(parameters, state):
    """1 without fat or at a glucose at or below the gate's threshold; a smoothstep up to its full level; the glucotoxic
    load takes away gip_diabetes_loss of it (Verdonk 1980's clamp levels, Nauck 1993)."""
    p, y = parameters, state.copy()  # its 24-h mean glucose is the set point: no glucotoxic load
    y[St.gut_mg_kg] = 100.0
    y[St.gut_speed_carb_mg_kg] = 100.0  # speed 1
    y[St.gut_fat_mg_kg] = 0.0
    assert gut.fat_gip_potentiation(y, p, 200.0) == 1.0
    y[St.gut_fat_mg_kg] = 40.0
    full = p[Par.fat_gip_potentiation] * p[Par.gut_absorption_rate] * 40.0
    low, high = p[Par.gip_glucose_threshold], p[Par.gip_glucose_full]
    assert gut.fat_gip_potentiation(y, p, low) == 1.0
    assert gut.fat_gip_potentiation(y, p, 60.0) == 1.0
    assert gut.fat_gip_potentiation(y, p, high) == pytest.approx(1.0 + full)
    assert gut.fat_gip_potentiation(y, p, high + 100.0) == pytest.approx(1.0 + full)
    assert gut.fat_gip_potentiation(y, p, 0.5 * (low + high)) == pytest.approx(1.0 + 0.5 * full)
    # a smoothstep (3x^2 - 2x^3), not a ramp: its slope is continuous at both ends
    assert gut.fat_gip_potentiation(y, p, low + 0.25 * (high - low)) == pytest.approx(1.0 + 0.15625 * full)
    kept = 1.0 - p[Par.gip_diabetes_loss]
    y[St.glucose_mean_mg_dl] = 2000.0  # the glucotoxic load at its maximum (1 to ~1e-11)
    assert gut.fat_gip_potentiation(y, p, high) == pytest.approx(1.0 + kept * full)
    assert 0.4 < kept < 0.5  # Nauck 1993: 54 % of the maximal effect lost in type 2 diabetes


def test_the_carbohydrate_incretin_has_glp1s_share_at_any_glucose_and_gips_share_behind_its_gate(parameters, state):
    """gut.carbohydrate_incretin_potentiation: GLP-1's share (carbohydrate_incretin_glp1_share, Gasbjerg 2019) acts
    below GIP's glucose gate too, GIP's share only as the gate opens; the glucotoxic load takes gip_diabetes_loss of
    both."""
    p, y = parameters, state.copy()
    y[St.gut_mg_kg] = 0.0
    assert gut.carbohydrate_incretin_potentiation(y, p, 200.0) == 1.0  # nothing absorbed
    y[St.gut_mg_kg] = 100.0
    y[St.gut_speed_carb_mg_kg] = 100.0  # speed 1
    low, high = p[Par.gip_glucose_threshold], p[Par.gip_glucose_full]
    share = p[Par.carbohydrate_incretin_glp1_share]
    assert 0.0 < share < 1.0
    below = gut.carbohydrate_incretin_potentiation(y, p, low - 20.0) - 1.0
    above = gut.carbohydrate_incretin_potentiation(y, p, high + 20.0) - 1.0
    assert gut.incretin_kept(y, p) == 1.0  # the fixture's mean glucose is its set point: no glucotoxic load
    assert above == pytest.approx(p[Par.carbohydrate_incretin_potentiation] * p[Par.gut_absorption_rate] * 100.0)
    assert below == pytest.approx(share * above, rel=1e-12)
    middle = gut.carbohydrate_incretin_potentiation(y, p, 0.5 * (low + high)) - 1.0
    assert middle == pytest.approx((share + 0.5 * (1.0 - share)) * above)
    # fat's GIP has no GLP-1 share: closed below the gate
    y[St.gut_fat_mg_kg] = 40.0
    assert gut.fat_gip_potentiation(y, p, low - 20.0) == 1.0
    y[St.glucose_mean_mg_dl] = 2000.0  # the glucotoxic load at its maximum
    loaded = gut.carbohydrate_incretin_potentiation(y, p, low - 20.0) - 1.0
    assert loaded == pytest.approx((1.0 - p[Par.gip_diabetes_loss]) * below)
