"""Export the organ model as SBML Level 3 (python-libsbml, optional extra).

Two exports. ``write_scenario_sbml`` writes the whole model (slow states
included) living a scenario's days: its compiled schedule becomes events
(meals, exercise sessions, sleep, drift, energy intake); tests/test_sbml.py
runs 30 days of it in libroadrunner and holds every state to glucosim's at
1e-3. ``write_sbml`` writes the fast model at one moment, for a clinic test:

The fast states (gut, glucose, insulin, secretion, NEFA, exercise, running
means and the post-exercise rise) become rate rules; slow states (beta-cell
mass and function, drift, training, weight) are frozen at the subject's values,
as during a clinic test; drivers are constants. Every rule below restates an
equation of ``glucosim.physiology`` (docs/model.md): tests/test_sbml.py runs the
exported file in libroadrunner and holds it to glucosim's own core at 1e-4, so
the two cannot drift apart unnoticed. Time is in minutes.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from glucosim.parameters import load_parameter_table
from glucosim.physiology._jit import SOFTPLUS_LINEAR
from glucosim.physiology.beta_cells import PRIMING_SMOOTHING, SLOW_PART_SWITCH_PMOL_KG_MIN
from glucosim.physiology.gut import EMPTY_MG_KG
from glucosim.physiology.indices import Drv, St
from glucosim.physiology.units import MAX_ABSORPTION_MULTIPLIER


def _mean_speed(speed_carb: str, carbohydrate: str) -> str:
    """gut._mean_speed: a compartment's carbohydrate-weighted speed, 0 if empty, within the meals' bounds."""
    return (
        f"piecewise(0, {carbohydrate} <= {EMPTY_MG_KG!r}, piecewise({MAX_ABSORPTION_MULTIPLIER!r}, "
        f"{speed_carb} > {MAX_ABSORPTION_MULTIPLIER!r} * {carbohydrate}, piecewise(0, {speed_carb} < 0, "
        f"{speed_carb} / {carbohydrate})))"
    )


FAST_STATES = (
    "stomach_solid_mg_kg",
    "stomach_liquid_mg_kg",
    "gut_mg_kg",
    "stomach_fat_mg_kg",
    "stomach_protein_mg_kg",
    "stomach_speed_carb_mg_kg",
    "gut_fat_mg_kg",
    "gut_protein_mg_kg",
    "gut_speed_carb_mg_kg",
    "stomach_emptied_mg_kg",
    "glucose_plasma_mg_kg",
    "glucose_tissue_mg_kg",
    "insulin_liver_pmol_kg",
    "insulin_plasma_pmol_kg",
    "insulin_liver_delay1_pmol_l",
    "insulin_liver_delayed_pmol_l",
    "insulin_remote_pmol_l",
    "secretion_second_phase_pmol_kg_min",
    "secretion_second_phase_slow_pmol_kg_min",
    "insulin_portal_pmol_kg",
    "nefa_mmol_l",
    "glucagon_pg_ml",
    "liver_glycogen_mg_kg",
    "clock_cos",
    "clock_sin",
    "exercise_vo2_pct",
    "exercise_liver_output_mg_kg_min",
    "exercise_uptake_mg_kg_min",
    "post_exercise_sensitivity",
    "glucose_mean_mg_dl",
    "insulin_mean_pmol_l",
)
"""States integrated in the exported model; every other dynamic state is a constant there."""
FROZEN_STATES = (
    "beta_mass_rel",
    "beta_function_rel",
    "beta_setpoint_adaptation_mg_dl",
    "beta_function_worn_rel",
    "glucose_baseline_mg_dl",
    "training_level",
    "drift_log_liver",
    "drift_log_muscle",
    "drift_log_adipose",
    "drift_log_reserve",
    "weight_change_kg",
    "fat_mass_change_kg",
    "adaptive_thermogenesis_kcal_day",
    "body_glycogen_change_kg",
    "extracellular_fluid_change_kg",
    "liver_fat_pct",
    "muscle_mass_rel",
    "activity_sensitivity_rel",
)


def _softplus(argument: str) -> str:
    """physiology._jit.softplus in SBML L3 infix: ln(1 + e^x), x itself above SOFTPLUS_LINEAR (no overflow)."""
    return f"piecewise({argument}, {argument} > {SOFTPLUS_LINEAR}, ln(1 + exp({argument})))"


# name = formula (SBML L3 infix); order matters only for readability
ASSIGNMENTS = {
    "G": "glucose_plasma_mg_kg / glucose_distribution_volume",
    "I": "insulin_plasma_pmol_kg / insulin_distribution_volume",
    "nefa_ratio": "nefa_mmol_l / nefa_reference",
    "mean_insulin_positive": "piecewise(insulin_mean_pmol_l, insulin_mean_pmol_l > 1e-9, 1e-9)",
    "chronic": "insulin_sensitivity_whole_body * (mean_insulin_positive / insulin_mean_reference)"
    "^(-hyperinsulinemia_sensitivity_exponent) * exp(-weight_sensitivity_elasticity * (weight_change_kg "
    "- glycogen_weight_factor * body_glycogen_change_kg - extracellular_fluid_change_kg) / body_weight)",
    # sensitivity.sleep_factor: the deficit blunts insulin action above basal only
    "sleep_remote_stimulated": "piecewise(1 - insulin_basal_reference / insulin_remote_pmol_l, "
    "insulin_remote_pmol_l > insulin_basal_reference, 0)",
    "sleep_liver_stimulated": "piecewise(1 - insulin_basal_reference / insulin_liver_delayed_pmol_l, "
    "insulin_liver_delayed_pmol_l > insulin_basal_reference, 0)",
    "sleep_peripheral": "piecewise(1 - sleep_peripheral_sensitivity_loss * sleep_deficit_h * sleep_remote_stimulated, "
    "1 - sleep_peripheral_sensitivity_loss * sleep_deficit_h * sleep_remote_stimulated > 0, 0)",
    "sleep_hepatic": "piecewise(1 - sleep_hepatic_sensitivity_loss * sleep_deficit_h * sleep_liver_stimulated, "
    "1 - sleep_hepatic_sensitivity_loss * sleep_deficit_h * sleep_liver_stimulated > 0, 0)",
    "liver_fat_factor": "1 / (1 + liver_fat_sensitivity_slope * piecewise((liver_fat_pct - liver_fat_reference) "
    "/ liver_fat_reference, liver_fat_pct > liver_fat_reference, 0))",
    "rhythm": "(1 + circadian_sensitivity_amplitude * clock_cos) "
    "* (1 - misalignment_sensitivity_loss * circadian_misalignment)",
    "liver_rhythm": "1 + circadian_liver_amplitude * (clock_cos * cos(2 * pi * (circadian_liver_peak_h "
    "- circadian_tolerance_peak_h) / 24) + clock_sin * sin(2 * pi * (circadian_liver_peak_h "
    "- circadian_tolerance_peak_h) / 24))",
    "clock_angle": "2 * pi * (time / 60 - circadian_tolerance_peak_h - clock_shift_h) / 24",
    "s_liver_chronic": "chronic * insulin_sensitivity_liver * exp(drift_log_liver) * liver_fat_factor",
    "s_liver": "s_liver_chronic * sleep_hepatic * rhythm",
    # glycogen.synthesis_capacity: a resistant liver stores less
    "glycogen_synthesis_capacity": "piecewise(1, s_liver_chronic >= 1, piecewise(0, s_liver_chronic <= 0, "
    "s_liver_chronic ^ hepatic_glycogen_synthesis_exponent))",
    "s_muscle": "chronic * insulin_sensitivity_muscle * exp(drift_log_muscle) * muscle_mass_rel "
    "* activity_sensitivity_rel * (1 + training_level) "
    "* (1 + post_exercise_sensitivity) * sleep_peripheral * rhythm",
    "s_adipose": "chronic * insulin_sensitivity_adipose * exp(drift_log_adipose) * (1 + training_level) * sleep_peripheral * rhythm",
    "liver_drive": "liver_output_extrapolated * (1 + liver_output_cortisol_gain * (cortisol_rel - 1)) "
    "* (1 + liver_output_nefa_gain * (nefa_ratio - 1)) * liver_rhythm - liver_output_glucose_effect * glucose_plasma_mg_kg "
    "- s_liver * (liver_output_insulin_effect * insulin_liver_delayed_pmol_l "
    "+ liver_output_portal_insulin_effect * insulin_action_scale * insulin_portal_pmol_kg)",
    # liver sources (model-fast, issue 10: physiology/liver.py, glycogen.py, glucagon.py)
    "liver_demand": "piecewise(liver_drive, liver_drive > 0, 0)",
    "liver_normal_drive": "liver_output_extrapolated - liver_output_glucose_effect * glucose_plasma_mg_kg "
    "- (liver_output_insulin_effect * insulin_liver_delayed_pmol_l "
    "+ liver_output_portal_insulin_effect * insulin_action_scale * insulin_portal_pmol_kg)",
    "gng_excess": "piecewise(liver_demand - piecewise(liver_normal_drive, liver_normal_drive > 0, 0), "
    "liver_demand - piecewise(liver_normal_drive, liver_normal_drive > 0, 0) > 0 && liver_demand > 0, 0)",
    "glucagon_exercise": "1 + glucagon_exercise_gain * exercise_vo2_pct / 100",
    "glucagon_cr": "piecewise(glucagon_pg_ml / glucagon_exercise - glucagon_basal, "
    "glucagon_pg_ml / glucagon_exercise > glucagon_basal, 0)",
    "gng": "gluconeogenesis_basal * piecewise(1 + gluconeogenesis_glucagon_gain * (glucagon_pg_ml / glucagon_basal - 1), "
    "glucagon_pg_ml > glucagon_basal, 1) + (1 - excess_output_glycogenolysis_share) * gng_excess",
    "gng_stored": "piecewise(gng - liver_demand, gng > liver_demand, 0)",
    "gng_released": "gng - gng_stored",
    "glycogen_availability": "piecewise(0, liver_glycogen_mg_kg <= 0, piecewise(1, liver_glycogen_mg_kg "
    "* (liver_glycogen_reference + liver_glycogen_half) >= liver_glycogen_reference "
    "* (liver_glycogen_mg_kg + liver_glycogen_half), liver_glycogen_mg_kg * (liver_glycogen_reference "
    "+ liver_glycogen_half) / (liver_glycogen_reference * (liver_glycogen_mg_kg + liver_glycogen_half))))",
    "glycogenolysis": "(piecewise(liver_demand - gng, liver_demand > gng, 0) + glucagon_output_effect * glucagon_cr "
    "+ exercise_liver_output_mg_kg_min) * glycogen_availability",
    # glycogen.liver_sources: what a low store cannot give of the excess's glycogen share, gluconeogenesis makes
    "gng_fallback": "piecewise(piecewise(excess_output_glycogenolysis_share * gng_excess, "
    "excess_output_glycogenolysis_share * gng_excess < liver_demand - gng, liver_demand - gng) "
    "* (1 - glycogen_availability), liver_demand > gng, 0)",
    "liver_output": "gng_released + gng_fallback + glycogenolysis",
    "hepatic_uptake": "piecewise(hepatic_uptake_fraction * (1 - adipose_uptake_fraction) * s_muscle "
    "* tissue_uptake_vmax_insulin * (insulin_remote_pmol_l - insulin_basal_reference) "
    "/ (1 + muscle_uptake_nefa_gain * nefa_excess) * saturation, insulin_remote_pmol_l > insulin_basal_reference, 0)",
    "glucagon_target": "glucagon_basal * (glucagon_min_fraction + (1 - glucagon_min_fraction) "
    "* (1 + glucagon_insulin_suppression) / (1 + glucagon_insulin_suppression * insulin_action_scale * I / insulin_basal_reference)) "
    "* piecewise(1 + glucagon_hypoglycemia_gain * (glucagon_hypoglycemia_threshold - G), "
    "G < glucagon_hypoglycemia_threshold, 1) * glucagon_exercise * (1 + glucagon_amino_acid_gain "
    "* gut_absorption_rate * protein_absorption)",
    "appearance": "gut_bioavailability * gut_absorption_rate * gut_speed * gut_mg_kg",
    "renal": "renal_gfr / 100 * renal_glucose_splay * "
    + _softplus(
        "(glucose_plasma_mg_kg / glucose_distribution_volume - renal_glucose_tm / (renal_gfr / 100)) "
        "/ renal_glucose_splay"
    )
    + " / body_weight",
    "saturation": "glucose_tissue_mg_kg / (tissue_uptake_km + glucose_tissue_mg_kg)",
    "vmax_independent": "tissue_uptake_vmax_basal - tissue_uptake_vmax_insulin * insulin_basal_reference",
    # muscle.py: the splanchnic bed's share of the insulin-independent part is booked apart
    "splanchnic_uptake": "splanchnic_uptake_fraction * vmax_independent * saturation",
    "vmax_peripheral": "(1 - splanchnic_uptake_fraction) * vmax_independent",
    "nefa_excess": "piecewise(nefa_ratio - 1, nefa_ratio > 1, 0)",
    "muscle_uptake": "(1 - adipose_uptake_fraction) * (vmax_peripheral + s_muscle * tissue_uptake_vmax_insulin "
    "* insulin_remote_pmol_l / (1 + muscle_uptake_nefa_gain * nefa_excess)) * saturation "
    "+ exercise_uptake_mg_kg_min * saturation / (exercise_uptake_reference_tissue_glucose "
    "/ (tissue_uptake_km + exercise_uptake_reference_tissue_glucose))",
    "adipose_uptake": "adipose_uptake_fraction * (vmax_peripheral + s_adipose * tissue_uptake_vmax_insulin "
    "* insulin_remote_pmol_l) * saturation",
    "exchange": "glucose_plasma_to_tissue_rate * glucose_plasma_mg_kg - glucose_tissue_to_plasma_rate * glucose_tissue_mg_kg",
    "d_plasma_glucose": "liver_output + appearance + iv_glucose_mg_kg_min - brain_glucose_uptake - renal - exchange",
    "d_glucose_mg_dl": "d_plasma_glucose / glucose_distribution_volume",
    "stomach": "stomach_solid_mg_kg + stomach_liquid_mg_kg",
    # gut.py: a compartment's mean speed and composition travel with its carbohydrate (add_meal)
    "stomach_speed": _mean_speed("stomach_speed_carb_mg_kg", "stomach"),
    "gut_speed": _mean_speed("gut_speed_carb_mg_kg", "gut_mg_kg"),
    "protein_absorption": "piecewise(gut_protein_mg_kg, gut_protein_mg_kg > 0, 0) * gut_speed",
    "gastric_dose": "stomach + piecewise(stomach_emptied_mg_kg, stomach_emptied_mg_kg > 0, 0)",
    "gastric_emptying": "piecewise(gastric_emptying_max * stomach_speed, gastric_dose <= 0, "
    "(gastric_emptying_min + 0.5 * (gastric_emptying_max - gastric_emptying_min) * "
    "(tanh(2.5 / (gastric_dose * (1 - gastric_emptying_shape_b)) * (stomach - gastric_emptying_shape_b * gastric_dose)) "
    "- tanh(2.5 / (gastric_dose * gastric_emptying_shape_d) * (stomach - gastric_emptying_shape_d * gastric_dose)) "
    "+ 2)) * stomach_speed) * duodenal_fat_brake",
    "intestinal_fat_kcal": "piecewise(gut_fat_mg_kg, gut_fat_mg_kg > 0, 0) * fat_energy * body_weight / 1000",
    "duodenal_fat_brake": "1 / (1 + intestinal_fat_kcal / duodenal_fat_brake_half_kcal)",
    "stomach_carb_energy_share": f"piecewise(stomach * carbohydrate_energy / (stomach * carbohydrate_energy "
    f"+ piecewise(stomach_fat_mg_kg, stomach_fat_mg_kg > 0, 0) * fat_energy "
    f"+ piecewise(stomach_protein_mg_kg, stomach_protein_mg_kg > 0, 0) * protein_energy), stomach > {EMPTY_MG_KG!r}, 1)",
    "carb_emptying_cap": "gastric_energy_emptying_max * stomach_carb_energy_share "
    "/ (carbohydrate_energy * body_weight / 1000)",
    "emptied": "gastric_emptying * stomach_liquid_mg_kg "
    "/ sqrt(1 + (gastric_emptying * stomach_liquid_mg_kg / carb_emptying_cap)^2)",
    "stomach_leaving": f"piecewise(emptied / stomach, stomach > {EMPTY_MG_KG!r}, 0)",
    "fat_absorption": "piecewise(gut_fat_mg_kg, gut_fat_mg_kg > 0, 0) * gut_speed",
    "gip_glucose_x": "(G - gip_glucose_threshold) / (gip_glucose_full - gip_glucose_threshold)",
    "gip_glucose_gate": "piecewise(0, gip_glucose_x <= 0, piecewise(1, gip_glucose_x >= 1, "
    "gip_glucose_x * gip_glucose_x * (3 - 2 * gip_glucose_x)))",
    # the beta cells' set point and glucotoxic load (beta_cells.py): incretin_kept reads the load here, the
    # slow rules of the whole-model export read both
    "compensation_setpoint": "glucose_setpoint + glucose_sensing_offset + beta_setpoint_adaptation_mg_dl",
    "toxicity": "piecewise(0, glucose_mean_mg_dl <= compensation_setpoint, "
    "1 / (1 + ((glucotoxicity_threshold - glucose_setpoint) / (glucose_mean_mg_dl - compensation_setpoint)) "
    "^ glucotoxicity_hill))",
    # the share of the gut's incretin potentiation that the glucotoxic load leaves (gut.incretin_kept), and fat's
    # GIP's answer: GIP's glucose gate times that share
    "incretin_kept": "1 - gip_diabetes_loss * toxicity",
    "incretin_gate": "gip_glucose_gate * incretin_kept",
    "capacity": "beta_mass_rel * beta_function_rel * piecewise(1 - sleep_secretion_loss * sleep_deficit_h, "
    "1 - sleep_secretion_loss * sleep_deficit_h > 0, 0) * (1 + protein_insulin_potentiation "
    "* gut_absorption_rate * protein_absorption) "
    "* (1 + fat_gip_potentiation * gut_absorption_rate * fat_absorption * incretin_gate) "
    "* (1 + circadian_secretion_amplitude * clock_cos)",
    "glucose_ratio_hill": "piecewise((G / secretion_glucose_half)^secretion_hill, G > 0, 0)",
    # glucose being absorbed potentiates the second phase's dose-response (gut.carbohydrate_incretin_potentiation)
    "carbohydrate_absorption": "piecewise(gut_mg_kg, gut_mg_kg > 0, 0) * gut_speed",
    # GLP-1's share acts at any glucose, GIP's share behind GIP's gate
    "carbohydrate_incretin": "1 + carbohydrate_incretin_potentiation * gut_absorption_rate * carbohydrate_absorption "
    "* (carbohydrate_incretin_glp1_share + (1 - carbohydrate_incretin_glp1_share) * gip_glucose_gate) "
    "* incretin_kept",
    "second_phase_target": "capacity * carbohydrate_incretin * secretion_max * glucose_ratio_hill "
    "/ (1 + glucose_ratio_hill)",
    "slow_gap": "secretion_slow_share * second_phase_target - secretion_second_phase_slow_pmol_kg_min",
    # first phase: DM2007's K dG/dt while glucose rises, saturating at first_phase_max_rate (beta_cells.first_phase_rate)
    "first_phase_demand": "secretion_first_phase_gain * piecewise(d_glucose_mg_dl, d_glucose_mg_dl > 0, 0)",
    # the first phase's priming by a recent rise of glucose (beta_cells.first_phase_priming)
    # (softplus-smoothed: the higher of the set point and the baseline, and the excess's positive part)
    "priming_width": f"{PRIMING_SMOOTHING} * compensation_setpoint",
    "priming_reference": "compensation_setpoint + priming_width * "
    + _softplus("(glucose_baseline_mg_dl - compensation_setpoint) / priming_width"),
    "priming_excess": f"{PRIMING_SMOOTHING} * " + _softplus("(glucose_mean_mg_dl - priming_reference) / priming_width"),
    "priming_ratio": "(priming_excess / first_phase_priming_half)^first_phase_priming_hill",
    "priming": "1 + first_phase_priming_max * priming_ratio / (1 + priming_ratio)",
    "portal_entry": "secretion_second_phase_pmol_kg_min + secretion_second_phase_slow_pmol_kg_min + capacity "
    "* (beta_mass_rel * beta_function_rel)^first_phase_capacity_exponent * priming "
    "* first_phase_demand / (1 + first_phase_demand / first_phase_max_rate)",
    "secretion": "portal_insulin_transfer_rate * insulin_portal_pmol_kg",
    # extraction falls with secretion at DM2007's initial slope and saturates at hepatic_extraction_fall_max
    "extraction_fall": "hepatic_extraction_secretion_slope * secretion "
    "/ (1 + hepatic_extraction_secretion_slope * secretion / hepatic_extraction_fall_max)",
    "extraction": "piecewise(hepatic_extraction_max - extraction_fall, hepatic_extraction_max - extraction_fall > 0, 0)",
    "m3": "extraction * insulin_liver_to_plasma_rate / (1 - extraction)",
    "lipolysis_reference_suppression": "lipolysis_max_suppression * insulin_basal_reference^lipolysis_hill "
    "/ (insulin_basal_reference^lipolysis_hill + lipolysis_insulin_ic50^lipolysis_hill)",
    # powers of non-negative states, guarded so an implicit solver's trial iterates below 0 give no NaN
    "remote_nonnegative": "piecewise(insulin_remote_pmol_l, insulin_remote_pmol_l > 0, 0)",
    "lipolysis_suppression": "lipolysis_max_suppression * remote_nonnegative^lipolysis_hill "
    "/ (remote_nonnegative^lipolysis_hill + (lipolysis_insulin_ic50 / s_adipose)^lipolysis_hill)",
    "fat_ratio": "piecewise((body_weight * body_fat_fraction + fat_mass_change_kg) / (body_weight * body_fat_fraction), "
    "(body_weight * body_fat_fraction + fat_mass_change_kg) / (body_weight * body_fat_fraction) > 0.05, 0.05)",
    "lipolysis": "nefa_clearance_rate * nefa_reference / (1 - lipolysis_reference_suppression) * fat_ratio "
    "* (1 - lipolysis_suppression)",
}

RATES = {
    "stomach_solid_mg_kg": "-gastric_grinding_rate * stomach_speed * stomach_solid_mg_kg",
    "stomach_liquid_mg_kg": "gastric_grinding_rate * stomach_speed * stomach_solid_mg_kg - emptied",
    "gut_mg_kg": "emptied - gut_absorption_rate * gut_speed * gut_mg_kg",
    "stomach_emptied_mg_kg": "emptied",
    **{
        f"stomach_{amount}_mg_kg": f"-stomach_leaving * stomach_{amount}_mg_kg"
        for amount in ("fat", "protein", "speed_carb")
    },
    **{
        f"gut_{amount}_mg_kg": f"stomach_leaving * stomach_{amount}_mg_kg "
        f"- gut_absorption_rate * gut_speed * gut_{amount}_mg_kg"
        for amount in ("fat", "protein", "speed_carb")
    },
    "glucose_plasma_mg_kg": "d_plasma_glucose",
    "glucose_tissue_mg_kg": "exchange - muscle_uptake - adipose_uptake - splanchnic_uptake",
    "insulin_liver_pmol_kg": "-(insulin_liver_to_plasma_rate + m3) * insulin_liver_pmol_kg "
    "+ insulin_plasma_to_liver_rate * insulin_plasma_pmol_kg + secretion",
    "insulin_plasma_pmol_kg": "-(insulin_plasma_to_liver_rate + insulin_peripheral_clearance_rate) * insulin_plasma_pmol_kg "
    "+ insulin_liver_to_plasma_rate * insulin_liver_pmol_kg + iv_insulin_pmol_kg_min",
    "insulin_liver_delay1_pmol_l": "-liver_insulin_delay_rate * (insulin_liver_delay1_pmol_l - insulin_action_scale * I)",
    "insulin_liver_delayed_pmol_l": "-liver_insulin_delay_rate * (insulin_liver_delayed_pmol_l - insulin_liver_delay1_pmol_l)",
    "insulin_remote_pmol_l": "-remote_insulin_action_rate * (insulin_remote_pmol_l - insulin_action_scale * I)",
    # the second phase's two parts share its dose-response (beta_cells.beta_fast_derivatives)
    "secretion_second_phase_pmol_kg_min": "-secretion_delay_rate * (secretion_second_phase_pmol_kg_min "
    "- (1 - secretion_slow_share) * second_phase_target)",
    # the slow part rises at its own rate and falls at the fast part's, by a tanh switch (beta_cells.slow_part_rate)
    "secretion_second_phase_slow_pmol_kg_min": "(secretion_delay_rate + (secretion_slow_delay_rate - secretion_delay_rate) "
    f"* 0.5 * (1 + tanh(slow_gap / {SLOW_PART_SWITCH_PMOL_KG_MIN}))) * slow_gap",
    "insulin_portal_pmol_kg": "portal_entry - secretion",
    "nefa_mmol_l": "lipolysis - nefa_clearance_rate * nefa_mmol_l",
    "clock_cos": "-2 * pi / 1440 * clock_sin + circadian_entrainment_rate / 1440 * (cos(clock_angle) - clock_cos)",
    "clock_sin": "2 * pi / 1440 * clock_cos + circadian_entrainment_rate / 1440 * (sin(clock_angle) - clock_sin)",
    "glucagon_pg_ml": "glucagon_clearance_rate * (glucagon_target - glucagon_pg_ml)",
    "liver_glycogen_mg_kg": "(gng_stored + (1 - gut_bioavailability) / gut_bioavailability * appearance "
    "+ hepatic_uptake) * piecewise(1 - liver_glycogen_mg_kg / liver_glycogen_capacity, "
    "liver_glycogen_mg_kg < liver_glycogen_capacity, 0) * glycogen_synthesis_capacity - glycogenolysis",
    "exercise_vo2_pct": "exercise_vo2_response_rate * (exercise_intensity_pct - exercise_vo2_pct)",
    "exercise_liver_output_mg_kg_min": "exercise_liver_output_gain * exercise_vo2_pct "
    "- exercise_liver_output_decay * exercise_liver_output_mg_kg_min",
    "exercise_uptake_mg_kg_min": "exercise_uptake_gain * exercise_vo2_pct - exercise_uptake_decay * exercise_uptake_mg_kg_min",
    "post_exercise_sensitivity": "post_exercise_sensitivity_gain * exercise_vo2_pct / 100 "
    "- post_exercise_sensitivity / (post_exercise_sensitivity_time * 60)",
    "glucose_mean_mg_dl": "(G - glucose_mean_mg_dl) / (chronic_filter_time * 1440)",
    "insulin_mean_pmol_l": "(I - insulin_mean_pmol_l) / (chronic_filter_time * 1440)",
}
EXPORTED_DRIVERS = (
    "clock_shift_h",
    "circadian_misalignment",
    "exercise_intensity_pct",
    "sleep_deficit_h",
    "cortisol_rel",
    "iv_glucose_mg_kg_min",
    "iv_insulin_pmol_kg_min",
)


def _check(code: int, what: str) -> None:
    import libsbml

    if code != libsbml.LIBSBML_OPERATION_SUCCESS:
        raise RuntimeError(f"libsbml failed to {what}: {libsbml.OperationReturnValue_toString(code)}")


def _math(formula: str):
    import libsbml

    node = libsbml.parseL3Formula(formula)
    if node is None:
        raise ValueError(f"cannot parse SBML formula: {formula}: {libsbml.getLastParseL3Error()}")
    return node


def build_document(state, params, drivers, name: str = "glucosim organ model"):
    """An SBML L3V2 document of the fast model at ``state`` with ``params`` and constant ``drivers``."""
    import libsbml

    document = libsbml.SBMLDocument(3, 2)
    model = document.createModel()
    model.setId("glucosim_fast_model")
    model.setName(name)
    minute = model.createUnitDefinition()
    minute.setId("minute")
    unit = minute.createUnit()
    unit.setKind(libsbml.UNIT_KIND_SECOND)
    unit.setExponent(1)
    unit.setScale(0)
    unit.setMultiplier(60.0)
    model.setTimeUnits("minute")
    model.setNotes(
        '<body xmlns="http://www.w3.org/1999/xhtml"><p>glucosim fast organ model; time in minutes; masses per kg '
        "body weight. Generated by glucosim.io.sbml; equations in docs/model.md.</p></body>"
    )
    descriptions = {row.name: f"{row.description} [{row.unit}] ({row.source})" for row in load_parameter_table()}

    def constant(identifier: str, value: float, constant_value: bool = True):
        parameter = model.createParameter()
        _check(parameter.setId(identifier), f"name parameter {identifier}")
        _check(parameter.setValue(float(value)), f"set {identifier}")
        _check(parameter.setConstant(constant_value), f"mark {identifier}")
        if identifier in descriptions:
            parameter.setName(descriptions[identifier][:250])
        return parameter

    for row, value in zip(load_parameter_table(), params):
        constant(row.name, value)
    for name in EXPORTED_DRIVERS:
        constant(name, drivers[Drv[name]])
    for name in FROZEN_STATES:
        constant(name, state[St[name]])
    for name in FAST_STATES:
        constant(name, state[St[name]], constant_value=False)
    for name in ASSIGNMENTS:
        constant(name, 0.0, constant_value=False)
    for name, formula in ASSIGNMENTS.items():
        rule = model.createAssignmentRule()
        _check(rule.setVariable(name), f"assign {name}")
        _check(rule.setMath(_math(formula)), f"set the math of {name}")
    for name, formula in RATES.items():
        rule = model.createRateRule()
        _check(rule.setVariable(name), f"rate {name}")
        _check(rule.setMath(_math(formula)), f"set the rate of {name}")
    return document


def write_sbml(path, state, params, drivers, name: str = "glucosim organ model") -> Path:
    """Write the SBML file and check it with libsbml's consistency checks; returns the path."""
    document = build_document(np.asarray(state), np.asarray(params), np.asarray(drivers), name)
    return _check_and_write(document, path)


# ---------------------------------------------------------------- the whole model over a scenario's schedule
def _slow_rates() -> dict[str, str]:
    """Rate rules of the slow states (beta cells, drift, training, body, liver fat), restating glucosim.physiology.

    A slow state added to the model without a rate here fails ``build_scenario_document`` (KeyError naming it)
    and tests/test_sbml.py.
    """
    from glucosim.physiology import body, exercise

    floor = exercise._MIN_ACTIVITY_SENSITIVITY
    activity = "(1 - inactivity_sensitivity_loss * (1 - daily_steps / steps_reference))"

    mifflin = (
        f"({body._MIFFLIN_WEIGHT} * body_weight + {body._MIFFLIN_HEIGHT} * height_cm - {body._MIFFLIN_AGE} * age_years "
        f"+ (1 - sex_female) * {body._MIFFLIN_MALE} + sex_female * ({body._MIFFLIN_FEMALE}))"
    )
    return {
        "beta_function_rel": "slow_dynamics_on * (beta_function_adaptation_rate * capped_function * (1 - toxicity) "
        "* beta_function_rel - beta_function_glucotoxic_rate * toxic_load * wearable_function"
        " + function_regain) / 1440",
        "beta_function_worn_rel": "slow_dynamics_on * (beta_function_glucotoxic_rate * toxic_load "
        "* wearable_function - function_recovered) / 1440",
        "beta_setpoint_adaptation_mg_dl": "-slow_dynamics_on * setpoint_release_rate * (1 - reserve_use) "
        "* (1 - toxicity) * beta_setpoint_adaptation_mg_dl / 1440",
        "beta_mass_rel": "slow_dynamics_on * (beta_mass_adaptation_rate * capped_mass * (1 - toxicity) * beta_mass_rel "
        "- (beta_mass_workload_rate * reserve_use + beta_mass_glucotoxic_rate * toxic_load) "
        "* wearable_mass) / 1440",
        "glucose_baseline_mg_dl": "slow_dynamics_on * (glucose_mean_mg_dl - glucose_baseline_mg_dl) "
        "/ (first_phase_priming_time * 1440)",
        "drift_log_liver": "slow_dynamics_on * drift_liver_per_day / 1440",
        "drift_log_muscle": "slow_dynamics_on * drift_muscle_per_day / 1440",
        "drift_log_adipose": "slow_dynamics_on * drift_adipose_per_day / 1440",
        "drift_log_reserve": "slow_dynamics_on * drift_reserve_per_day / 1440",
        # aerobic sessions build the training level, resistance sessions muscle mass (physiology/exercise.py)
        "training_level": "slow_dynamics_on * (training_gain * exercise_vo2_pct / 100 * (1 - resistance_exercise) "
        "- training_level) / (training_time * 1440)",
        "muscle_mass_rel": "slow_dynamics_on * (muscle_mass_gain * exercise_vo2_pct / 100 * resistance_exercise "
        "- (muscle_mass_rel - 1)) / (muscle_mass_time * 1440)",
        "activity_sensitivity_rel": "slow_dynamics_on * (activity_target - activity_sensitivity_rel) "
        "/ (inactivity_time * 1440)",
        "fat_mass_change_kg": "slow_dynamics_on * d_fat / 1440",
        "weight_change_kg": "slow_dynamics_on * (d_fat + d_lean + glycogen_weight_factor * d_glycogen + d_fluid) / 1440",
        "body_glycogen_change_kg": "slow_dynamics_on * d_glycogen / 1440",
        "extracellular_fluid_change_kg": "slow_dynamics_on * d_fluid / 1440",
        "adaptive_thermogenesis_kcal_day": "slow_dynamics_on * (adaptive_thermogenesis_fraction * "
        "(intake - physical_activity_level * rest) - adaptive_thermogenesis_kcal_day) / adaptive_thermogenesis_time "
        "/ 1440",
        "liver_fat_pct": "slow_dynamics_on * (liver_fat_inflow - liver_fat_outflow) / 1440",
        # helpers (assignment rules, listed here so they follow the fast model's)
        "@beta_drive": "(glucose_mean_mg_dl - compensation_setpoint) / compensation_setpoint",
        "@toxic_load": "toxicity * piecewise(0, 1 + lipotoxicity_nefa_gain * (nefa_mmol_l / nefa_mean_reference - 1) "
        "< 0, 1 + lipotoxicity_nefa_gain * (nefa_mmol_l / nefa_mean_reference - 1))",
        # the reserve's caps after the scenario's drift of the reserve (beta_cells.reserve_caps); above its cap a
        # level is pulled back by the drive that held it there, the headroom bounded at -1 (capped_growth_at)
        "@function_cap": "beta_function_max * exp(drift_log_reserve)",
        "@mass_cap": "beta_mass_max * exp(drift_log_reserve)",
        "@capped_function": "piecewise(beta_drive * piecewise(1 - (beta_function_rel / function_cap) "
        "^ beta_function_cap_sharpness, 1 - (beta_function_rel / function_cap) ^ beta_function_cap_sharpness > -1, "
        "-1), beta_drive > 0, beta_drive)",
        "@reserve_use": "piecewise(0, beta_function_rel <= 0 || function_cap <= 0, piecewise(1, "
        "(beta_function_rel / function_cap) ^ beta_function_cap_sharpness > 1, "
        "(beta_function_rel / function_cap) ^ beta_function_cap_sharpness))",
        # the impaired function recovers as the load lifts and brings function back to healthy (1, or a reserve
        # under 1), at most at the recovery rate times the gap (beta_cells.py)
        "@function_recovered": "beta_function_recovery_rate * (1 - toxicity) * beta_function_worn_rel",
        "@healthy_function": "piecewise(function_cap, function_cap < 1, 1)",
        "@function_gap_rate": "beta_function_recovery_rate * (1 - toxicity) * (healthy_function - beta_function_rel)",
        "@function_regain": "piecewise(piecewise(function_recovered, function_recovered < function_gap_rate, "
        "function_gap_rate), beta_function_rel < healthy_function, 0)",
        # the load wears only what is above the floors (beta_cells.beta_slow_derivatives)
        "@wearable_function": "piecewise(beta_function_rel - beta_function_floor, beta_function_rel > beta_function_floor, 0)",
        "@wearable_mass": "piecewise(beta_mass_rel - beta_mass_floor, beta_mass_rel > beta_mass_floor, 0)",
        # mass follows the weeks-long mean glucose (beta_cells.beta_slow_derivatives), function the 1-day mean
        "@mass_drive": "(glucose_baseline_mg_dl - compensation_setpoint) / compensation_setpoint",
        "@capped_mass": "piecewise(mass_drive * piecewise(1 - beta_mass_rel / mass_cap, "
        "1 - beta_mass_rel / mass_cap > -1, -1), mass_drive > 0, mass_drive)",
        "@activity_target": f"piecewise({floor}, {activity} < {floor}, piecewise(1 + inactivity_sensitivity_loss, "
        f"{activity} > 1 + inactivity_sensitivity_loss, {activity}))",
        "@rest": mifflin,
        # body.energy_imbalance_kcal_day, term by term: maintenance of fat and lean tissue, moving the body, the
        # thermic effect of food, adaptive thermogenesis, exercise sessions, daily steps away from the habitual, and
        # the glucose lost in the urine (body.urinary_glucose_kcal_day)
        "@intake": "food_energy_kcal_day + energy_surplus_kcal_day + sleep_appetite_energy * sleep_deficit_h",
        "@imbalance": "(intake - physical_activity_level * rest) - (fat_maintenance_cost * fat_mass_change_kg "
        "+ lean_maintenance_cost * (tissue_change - fat_mass_change_kg) "
        "+ ((1 - thermic_effect_fraction) * physical_activity_level - 1) * rest / body_weight * weight_change_kg "
        "+ thermic_effect_fraction * (intake - physical_activity_level * rest) + adaptive_thermogenesis_kcal_day "
        "+ exercise_vo2_pct / resting_intensity * met_energy * (body_weight + weight_change_kg) * 24 "
        "+ step_energy * (daily_steps - steps_reference) * (body_weight + weight_change_kg)) "
        "- renal * body_weight * 1440 / 1000 * carbohydrate_energy",
        "@fat_now": "piecewise(body_weight * body_fat_fraction + fat_mass_change_kg, "
        "body_weight * body_fat_fraction + fat_mass_change_kg > 0, 0)",
        "@forbes": "forbes_constant * lean_energy_density / fat_energy_density",
        "@d_lean_free": "forbes / (forbes + fat_now) * tissue_imbalance / (lean_energy_density + lean_deposition_cost)",
        "@d_lean": f"piecewise(0, d_lean_free < 0 && body_weight * (1 - body_fat_fraction) + tissue_change "
        f"- fat_mass_change_kg <= {body.MIN_LEAN_MASS_FRACTION} * body_weight * (1 - body_fat_fraction), d_lean_free)",
        # liver fat (glucosim.physiology.ectopic_fat)
        "@lf_insulin_ratio": "insulin_mean_pmol_l / insulin_mean_reference",
        "@lf_sources": "liver_fat_nefa_share * nefa_mmol_l / nefa_mean_reference + liver_fat_dnl_share "
        "* carbohydrate_g_day / carbohydrate_reference * 2 * lf_insulin_ratio / (lf_insulin_ratio + 1) "
        "+ (1 - liver_fat_nefa_share - liver_fat_dnl_share) * intake / (physical_activity_level * rest)",
        "@liver_fat_inflow": "liver_fat_reference / liver_fat_turnover_time * lf_sources "
        "* piecewise(1 - liver_fat_pct / liver_fat_maximum, 1 - liver_fat_pct / liver_fat_maximum > 0, 0) "
        "/ (1 - liver_fat_reference / liver_fat_maximum)",
        "@lf_fat": "piecewise(liver_fat_pct, liver_fat_pct > 0, 0)",
        "@lf_deficit": "piecewise(-imbalance / (physical_activity_level * rest), imbalance < 0, 0)",
        "@liver_fat_outflow": "liver_fat_export_capacity * liver_fat_reference / (liver_fat_turnover_time "
        "* liver_fat_capacity_used) * (lf_fat + liver_fat_deficit_oxidation * lf_deficit "
        "* piecewise(lf_fat - liver_fat_reference, lf_fat > liver_fat_reference, 0)) "
        "/ (liver_fat_reference * (1 / liver_fat_capacity_used - 1) + lf_fat)",
        "@d_fat": "(1 - forbes / (forbes + fat_now)) * tissue_imbalance / (fat_energy_density + fat_deposition_cost)",
        # Hall 2011's glycogen and extracellular fluid (glucosim.physiology.body)
        "@carb_ratio": "carbohydrate_g_day / carbohydrate_reference",
        "@glycogen_rel": "piecewise(1 + body_glycogen_change_kg / body_glycogen_reference, "
        "1 + body_glycogen_change_kg / body_glycogen_reference > 0, 0)",
        "@d_glycogen": "carbohydrate_reference * carbohydrate_energy * (carb_ratio - glycogen_rel^2) "
        "/ glycogen_energy_density",
        "@d_fluid": "-(ecf_sodium_excretion * extracellular_fluid_change_kg + ecf_carbohydrate_sodium "
        "* piecewise(1 - carb_ratio, carb_ratio < 1, 0)) / ecf_sodium_concentration",
        "@tissue_change": "weight_change_kg - glycogen_weight_factor * body_glycogen_change_kg "
        "- extracellular_fluid_change_kg",
        "@tissue_imbalance": "imbalance - glycogen_energy_density * d_glycogen",
    }


UNDERFLOW_FLOOR = 1e-100


def _soft(state: str) -> str:
    """``state`` with its last 1e-100 softened: a decay rate k * soft(x) slows smoothly there instead of
    underflowing (k * x * |x| / (|x| + 1e-100); a relative change of 1e-100 / x, nothing at physiological values)."""
    return f"({state} * abs({state}) / (abs({state}) + {UNDERFLOW_FLOOR}))"


SMOOTH_DECAY = {
    "exercise_vo2_pct": f"exercise_vo2_response_rate * (exercise_intensity_pct - {_soft('exercise_vo2_pct')})",
    "exercise_liver_output_mg_kg_min": "exercise_liver_output_gain * exercise_vo2_pct "
    f"- exercise_liver_output_decay * {_soft('exercise_liver_output_mg_kg_min')}",
    "exercise_uptake_mg_kg_min": "exercise_uptake_gain * exercise_vo2_pct "
    f"- exercise_uptake_decay * {_soft('exercise_uptake_mg_kg_min')}",
    "stomach_solid_mg_kg": f"-gastric_grinding_rate * stomach_speed * {_soft('stomach_solid_mg_kg')}",
}

SESSION_RESET_STATES = ("exercise_vo2_pct", "exercise_liver_output_mg_kg_min", "exercise_uptake_mg_kg_min")
SESSION_RESET_BELOW = 1e-30


def build_scenario_document(loaded, n_days: int, name: str | None = None):
    """An SBML L3V2 document of the whole model (slow states included) living ``n_days`` of ``loaded``.

    The scenario's schedule (glucosim.scenario.compile) becomes events: at each segment start the drivers
    (exercise intensity, sleep deficit, drift, energy intake, cortisol) take the segment's values and a
    meal's food enters the stomach (physiology.gut.meal_event), exactly as glucosim integrates it. The
    starting state is glucosim's (``initial_state``); the running integrals (daily totals) are left out.
    """

    from glucosim.scenario.compile import ScenarioProgram
    from glucosim.simulation.initial_state import initial_state

    program = ScenarioProgram(loaded)
    y0 = initial_state(program)
    schedule = program.schedule(0, n_days)
    y0 = np.where(schedule.resets[0], 0.0, y0) + schedule.jumps[0]
    drivers = schedule.drivers
    document = build_document(y0, loaded.parameters, drivers[0], name or f"glucosim: {loaded.scenario.name}")
    model = document.getModel()
    model.setId("glucosim_whole_model")
    slow = _slow_rates()
    for state in FROZEN_STATES:
        model.getParameter(state).setConstant(False)
        rule = model.createRateRule()
        _check(rule.setVariable(state), f"rate {state}")
        _check(rule.setMath(_math(slow[state])), f"set the rate of {state}")
    for key, formula in slow.items():
        if key.startswith("@"):
            helper = model.createParameter()
            helper.setId(key[1:])
            helper.setConstant(False)
            helper.setValue(0.0)
            rule = model.createAssignmentRule()
            _check(rule.setVariable(key[1:]), f"assign {key[1:]}")
            _check(rule.setMath(_math(formula)), f"set the math of {key[1:]}")
    for driver in Drv:
        if model.getParameter(driver.name) is None:
            parameter = model.createParameter()
            parameter.setId(driver.name)
            parameter.setValue(float(drivers[0][driver]))
        model.getParameter(driver.name).setConstant(False)
    # States that decay to zero between sessions and meals reach the floating-point underflow range within a
    # day, where CVODE's Newton iteration fails. Below 1e-100 (physiologically zero, far below every
    # tolerance) and with nothing driving them, their decay stops: a difference of at most 1e-100.
    for state, formula in SMOOTH_DECAY.items():
        rule = model.getRateRule(state)
        _check(rule.setMath(_math(formula)), f"smooth the decay of {state}")
    previous = drivers[0]
    for k in range(1, len(schedule.t0)):
        changed = [driver for driver in Drv if drivers[k][driver] != previous[driver]]
        jumped = [
            state for state in FAST_STATES if schedule.jumps[k][St[state]] != 0.0 or schedule.resets[k][St[state]]
        ]
        previous = drivers[k]
        if not changed and not jumped:
            continue
        event = model.createEvent()
        event.setId(f"segment_{k}")
        event.setUseValuesFromTriggerTime(True)
        trigger = event.createTrigger()
        trigger.setInitialValue(False)
        trigger.setPersistent(True)
        trigger.setMath(_math(f"time >= {float(schedule.t0[k])!r}"))
        for driver in changed:
            assignment = event.createEventAssignment()
            assignment.setVariable(driver.name)
            assignment.setMath(_math(repr(float(drivers[k][driver]))))
        for state in jumped:
            assignment = event.createEventAssignment()
            assignment.setVariable(state)
            start = "0" if schedule.resets[k][St[state]] else state  # solver contract rule 3: reset, then jump
            assignment.setMath(_math(f"{start} + {float(schedule.jumps[k][St[state]])!r}"))
        if drivers[k][Drv.exercise_intensity_pct] > 0 and drivers[k - 1][Drv.exercise_intensity_pct] == 0:
            # a session starts: remnants of the last one below 1e-30 become exactly 0 (CVODE's Newton iteration
            # fails on them when the session drives the states up again; the change is below 1e-30)
            for state in SESSION_RESET_STATES:
                assignment = event.createEventAssignment()
                assignment.setVariable(state)
                assignment.setMath(_math(f"piecewise(0, abs({state}) < {SESSION_RESET_BELOW}, {state})"))
    return document, y0


def write_scenario_sbml(path, loaded, n_days: int) -> Path:
    """Write the whole model living ``n_days`` of scenario ``loaded`` as SBML (checked by libsbml); returns the path."""
    document, _ = build_scenario_document(loaded, n_days)
    return _check_and_write(document, path)


def _check_and_write(document, path) -> Path:
    """Write ``document`` to ``path`` after libsbml's consistency checks (units aside); returns the path."""
    import libsbml

    document.setConsistencyChecks(libsbml.LIBSBML_CAT_UNITS_CONSISTENCY, False)
    if document.checkConsistency():
        errors = [document.getError(i) for i in range(document.getNumErrors())]
        serious = [error for error in errors if error.getSeverity() >= libsbml.LIBSBML_SEV_ERROR]
        if serious:
            raise RuntimeError("exported SBML is inconsistent: " + "; ".join(e.getMessage() for e in serious[:5]))
    from glucosim._files import write_whole

    path = Path(path)

    def write(partial: Path) -> None:
        if not libsbml.writeSBMLToFile(document, str(partial)):
            raise OSError(f"could not write {path}")

    # an interrupted export leaves the previous file (or none), never a truncated XML file under the requested name
    write_whole(path, write)
    return path
