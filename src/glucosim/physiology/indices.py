"""Index enums shared by the kernels: parameters, states and drivers.

Numba compiles ``IntEnum`` members to constants, so kernels read
``p[Par.glucose_distribution_volume]`` at no cost. ``Par`` is derived from the
order of ``models/parameters.toml`` (the single source of truth); states and
drivers are declared here, each with its unit.
"""

from enum import IntEnum
from pathlib import Path

from glucosim._toml import load_toml

PARAMETER_TABLE_PATH = Path(__file__).resolve().parent.parent / "models" / "parameters.toml"

Par = IntEnum("Par", [(name, i) for i, name in enumerate(load_toml(PARAMETER_TABLE_PATH))])
Par.__doc__ = "Index of each parameter in the kernel's parameter vector (table order)."

# name, unit, description. Order is the state-vector layout.
STATE_SPEC = [
    # gut (Dalla Man 2007)
    ("stomach_solid_mg_kg", "mg/kg", "glucose in the stomach, solid phase"),
    ("stomach_liquid_mg_kg", "mg/kg", "glucose in the stomach, liquid phase"),
    ("gut_mg_kg", "mg/kg", "glucose in the intestine"),
    # glucose kinetics
    ("glucose_plasma_mg_kg", "mg/kg", "plasma (and rapidly equilibrating) glucose mass"),
    ("glucose_tissue_mg_kg", "mg/kg", "glucose mass in slowly equilibrating (insulin-sensitive) tissue"),
    # insulin kinetics
    ("insulin_liver_pmol_kg", "pmol/kg", "insulin mass in the liver"),
    ("insulin_plasma_pmol_kg", "pmol/kg", "insulin mass in plasma"),
    ("insulin_liver_delay1_pmol_l", "pmol/l", "first delay compartment of insulin action on the liver"),
    ("insulin_liver_delayed_pmol_l", "pmol/l", "delayed insulin acting on the liver"),
    ("insulin_remote_pmol_l", "pmol/l", "remote (interstitial) insulin acting on muscle and adipose"),
    # beta cells (fast)
    ("secretion_second_phase_pmol_kg_min", "pmol/kg/min", "second-phase insulin secretion"),
    ("insulin_portal_pmol_kg", "pmol/kg", "insulin in the portal vein"),
    # adipose
    ("nefa_mmol_l", "mmol/l", "plasma non-esterified fatty acids"),
    # exercise (Roy & Parker 2007 and after-effects)
    ("exercise_vo2_pct", "%VO2max", "oxygen uptake above rest (PVO2max)"),
    ("exercise_liver_output_mg_kg_min", "mg/kg/min", "exercise-induced liver glucose output"),
    (
        "exercise_uptake_mg_kg_min",
        "mg/kg/min",
        "insulin-independent exercise glucose uptake (at reference tissue glucose)",
    ),
    ("post_exercise_sensitivity", "1", "post-exercise rise of muscle insulin sensitivity (fraction)"),
    ("training_level", "1", "durable training rise of muscle and adipose sensitivity (fraction)"),
    # slow: running means, beta cells, sensitivity drift, weight
    ("glucose_mean_mg_dl", "mg/dl", "running (about daily) mean plasma glucose"),
    ("insulin_mean_pmol_l", "pmol/l", "running (about daily) mean plasma insulin"),
    ("beta_mass_rel", "1", "beta-cell mass relative to healthy"),
    ("beta_function_rel", "1", "beta-cell secretory function relative to healthy"),
    ("drift_log_liver", "1", "accumulated log-change of hepatic sensitivity from scenario drift"),
    ("drift_log_muscle", "1", "accumulated log-change of muscle sensitivity from scenario drift"),
    ("drift_log_adipose", "1", "accumulated log-change of adipose sensitivity from scenario drift"),
    ("weight_change_kg", "kg", "change of body weight from the start"),
    # energy balance (Hall 2011): fat mass change and adaptive thermogenesis; lean change = weight - fat change
    ("fat_mass_change_kg", "kg", "change of body fat mass from the start"),
    ("adaptive_thermogenesis_kcal_day", "kcal/day", "adaptive change of energy expenditure (Hall 2011 AT)"),
    # quadratures, reset each output chunk (daily fluxes are their differences)
    ("cum_liver_output_mg_kg", "mg/kg", "integral of net liver glucose output"),
    ("cum_gut_appearance_mg_kg", "mg/kg", "integral of meal glucose appearance"),
    ("cum_muscle_uptake_mg_kg", "mg/kg", "integral of muscle glucose uptake"),
    ("cum_adipose_uptake_mg_kg", "mg/kg", "integral of adipose glucose uptake"),
    ("cum_brain_uptake_mg_kg", "mg/kg", "integral of brain glucose uptake"),
    ("cum_renal_excretion_mg_kg", "mg/kg", "integral of renal glucose excretion"),
    ("cum_glucose_mg_dl_min", "mg/dl*min", "integral of plasma glucose concentration"),
    ("cum_insulin_pmol_l_min", "pmol/l*min", "integral of plasma insulin concentration"),
    ("cum_secretion_pmol_kg", "pmol/kg", "integral of insulin secretion"),
]

St = IntEnum("St", [(name, i) for i, (name, _, _) in enumerate(STATE_SPEC)])
St.__doc__ = "Index of each state in the state vector."
STATE_NAMES = tuple(name for name, _, _ in STATE_SPEC)
STATE_UNITS = {name: unit for name, unit, _ in STATE_SPEC}
N_STATES = len(STATE_SPEC)
FIRST_QUADRATURE = St.cum_liver_output_mg_kg
"""States from here on are running integrals: they never steer the step size."""

# Drivers are constant within a schedule segment (between events).
DRIVER_SPEC = [
    ("meal_dose_mg_kg", "mg/kg", "glucose dose of the latest meal (shapes gastric emptying)"),
    ("absorption_speed", "1", "multiplier on gastric emptying and absorption (fibre, glycemic index)"),
    ("exercise_intensity_pct", "%VO2max", "exercise intensity above rest"),
    ("sleep_deficit_h", "h", "sleep deficit of the night before"),
    ("drift_liver_per_day", "1/day", "log-rate of scenario drift of hepatic sensitivity"),
    ("drift_muscle_per_day", "1/day", "log-rate of scenario drift of muscle sensitivity"),
    ("drift_adipose_per_day", "1/day", "log-rate of scenario drift of adipose sensitivity"),
    ("energy_surplus_kcal_day", "kcal/day", "explicit extra energy intake (the scenario's override), every day"),
    ("food_energy_kcal_day", "kcal/day", "energy of the day's food: meals plus the rest of the diet"),
    ("cortisol_rel", "1", "plasma cortisol relative to normal"),
    ("slow_dynamics_on", "1", "1 normally; 0 freezes slow states (used to find the starting state)"),
    ("iv_glucose_mg_kg_min", "mg/kg/min", "intravenous glucose infusion (clinic protocols)"),
    ("iv_insulin_pmol_kg_min", "pmol/kg/min", "intravenous insulin infusion (clinic protocols)"),
]
Drv = IntEnum("Drv", [(name, i) for i, (name, _, _) in enumerate(DRIVER_SPEC)])
Drv.__doc__ = "Index of each driver in a segment's driver vector."
N_DRIVERS = len(DRIVER_SPEC)
