"""Reproduce the calibrated values of the parameter table that are fixed by the healthy reference day.

    python tools/calibrate.py

1. secretion_max: the maximal secretion at which the healthy preset, eating
   the reference day of scenarios/01_healthy_baseline.toml with beta-cell
   mass = function = 1, has a 24-h mean glucose equal to glucose_setpoint.
2. insulin_mean_reference: that subject's 24-h mean plasma insulin.
3. protein_insulin_potentiation: the amino-acid/incretin potentiation at which
   50 g of protein added to a 50 g carbohydrate breakfast raises the 3-h
   incremental insulin area by 50 % (target within the +31 to +57 % of whey
   added to high-glycemic-index meals, Frid 2005 Am J Clin Nutr 82:69).

It prints the values; copy them into models/parameters.toml if they moved.
tests/test_calibration.py fails when the table and this script disagree.
"""

from pathlib import Path

import numpy as np
from scipy.optimize import brentq

from glucosim.physiology.indices import Par, St
from glucosim.scenario.compile import ScenarioProgram
from glucosim.scenario.load import load_scenario, parse_scenario
from glucosim.simulation.initial_state import _guess, warm_up

REFERENCE_SCENARIO = Path(__file__).resolve().parent.parent / "scenarios" / "01_healthy_baseline.toml"


def reference_day(secretion_max: float, insulin_reference: float):
    """(mean glucose mg/dl, mean insulin pmol/l) of the healthy reference day at mass = function = 1."""
    loaded = load_scenario(REFERENCE_SCENARIO)
    program = ScenarioProgram(loaded)
    program.parameters = program.parameters.copy()
    program.parameters[Par.secretion_max] = secretion_max
    program.parameters[Par.insulin_mean_reference] = insulin_reference
    y = _guess(program.parameters)
    y[St.beta_function_rel] = 1.0
    y[St.beta_mass_rel] = 1.0
    y, _, _ = warm_up(program, y)
    _, glucose, insulin = warm_up(program, y)
    return glucose, insulin


FIXED_POINT_ITERATIONS = 20
FIXED_POINT_TOLERANCE_PMOL_L = 1e-3


def calibrate() -> dict:
    """Solve jointly for secretion_max and the reference mean insulin (sensitivity depends on the latter)."""
    loaded = load_scenario(REFERENCE_SCENARIO)
    setpoint = float(loaded.parameters[Par.glucose_setpoint])
    insulin = float(loaded.parameters[Par.insulin_mean_reference])
    for _ in range(FIXED_POINT_ITERATIONS):
        secretion_max = brentq(lambda s, i=insulin: reference_day(s, i)[0] - setpoint, 10.0, 50.0, xtol=1e-5)
        glucose, new_insulin = reference_day(secretion_max, insulin)
        converged = abs(new_insulin - insulin) < FIXED_POINT_TOLERANCE_PMOL_L
        insulin = new_insulin
        if converged:
            break
    return {"secretion_max": secretion_max, "mean_glucose_mg_dl": glucose, "insulin_mean_reference": insulin}


PROTEIN_TARGET_RATIO = 1.5
"""Incremental insulin area with protein (1 g per g of carbohydrate) / without: +50 %."""


def _breakfast_insulin_area(potentiation: float, protein_g: float) -> float:
    """3-h incremental insulin area (pmol/l*min) after a 50 g carbohydrate breakfast with ``protein_g`` protein."""
    from glucosim.simulation.run import simulate

    data = {
        "name": "protein calibration",
        "duration_days": 1,
        "subject": {"parameters": {"protein_insulin_potentiation": potentiation}},
        "routine": {"meals": [{"time_h": 8.0, "carbs_g": 50.0, "protein_g": protein_g}]},
    }
    day = simulate(parse_scenario(data, "calibration"), progress=False).trajectories[0]
    window = (day["clock_h"] >= 8.0) & (day["clock_h"] <= 11.0)
    basal = day.loc[day["clock_h"] <= 8.0, "insulin_pmol_l"].iloc[-1]
    return float(np.trapezoid(day.loc[window, "insulin_pmol_l"] - basal, day.loc[window, "time_min"]))


def calibrate_protein_potentiation() -> float:
    """protein_insulin_potentiation giving PROTEIN_TARGET_RATIO (the carbohydrate-only area does not depend on it)."""
    alone = _breakfast_insulin_area(0.0, 0.0)
    return brentq(lambda k: _breakfast_insulin_area(k, 50.0) / alone - PROTEIN_TARGET_RATIO, 0.0, 0.6, xtol=1e-4)


if __name__ == "__main__":
    for name, value in calibrate().items():
        print(f"{name} = {value:.4g}")
    print(f"protein_insulin_potentiation = {calibrate_protein_potentiation():.3g}")
