"""Diagnostic (issue 11): the healthy liver's timing and storage fitted to meal and clamp data off the validation page.

    PYTHONPATH=src python tools/liver_meal_fit.py            # the fit: ~40 evaluations, ~3 min on 2 cores
    PYTHONPATH=src python tools/liver_meal_fit.py --at       # the table's values only (~5 s)
    PYTHONPATH=src python tools/liver_meal_fit.py --at --set liver_insulin_delay_rate=0.0327

Three parameters set how fast and how deeply insulin holds the liver's output down and how much of a meal the liver
stores: liver_insulin_delay_rate (DM2007's delay), liver_output_insulin_effect (kp3) and hepatic_uptake_fraction.
The measurements below test them and none is on the validation page (whose liver quantities, Rizza 1981's stepped
clamp, Hovorka 2002's IVGTT and the IVGTT's nadir, stay held out). Each evaluation re-solves the reference day
(glucosim.calibration.measure.solve_reference_day), as `glucosim calibrate` does, and reads:

- the Newcastle mixed meal (tools/meal_liver_course.py --meal newcastle: 550 kcal; abstract): output at 30 min ~50 %
  of basal (no spread given: 0.10 assumed) and 0.89 +- 0.09 mg/kg/min over 60-240 min of a basal 2.55 (0.349 +-
  0.035 of basal, the abstract's spread taken as the SEM);
- Taylor 1996's larger meal (tools/meal_liver_course.py: its fat and protein assumed): output 0.31 -> 0.49 mg/kg/min
  over 60-255 min of a basal 1.90 (0.21; 0.05 assumed) and net glycogen synthesis 28.3 +- 3.7 g, ~19 % of its
  ~150 g of carbohydrate (0.19 +- 0.025);
- Krssak 2004's controls' net glycogen synthesis after a meal, 1.36 +- 0.15 mg/kg/min (the meal's composition not
  read; glucosim's healthy adult after the 75 g dinner of validation/targets/type2_liver_glycogen.toml's protocol);
- the 20 mU/m2/min clamp's suppression of output, ~70 % in adults without diabetes (Staehr 2001, Lewis 1996:
  protocols/clamp_20mU.toml; 10 points assumed).

Measured on 2026-12-07 (thirty-second session) from the table's values (cost 26.9): the fit ends at 0.0322/min (a
half-time of ~52 min, inside Hovorka 2002's 16-54), kp3 0.00627 and hepatic_uptake_fraction 0.499 (at its range's
top, 0.5), cost 4.34, the rest mostly Krssak's synthesis (0.96 mg/kg/min). So data off the page ask for Hovorka's
delay too. With 0.0327, 0.00624 and 0.51 (the same fit with that range widened) and everything refitted
(tools/refit.py) 84 of 105 validation quantities agree, against 85: Rizza's liver, Hovorka's 60-min suppression and
Bloem's SI come in; Dalla Man's glucose peak, the protein case, and the short night's fasting glucose and clamp
liver output (fully suppressed: undefined) go out (CHANGELOG, thirty-second session). Not adopted. A hyperbolic
suppression (output ~ A / (1 + s kp3 I / A), portal insulin apart) fits these data as well (cost 4.58) and brings
in the diabetic liver's two long-standing quantities; its measurement, and what it still lacks, are in the same
CHANGELOG section (the form was tried on a worktree and is not in the model).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from meal_liver_course import MEALS, meal_day  # noqa: E402  (the same meals and day as the diagnostic beside it)

FREE = ("liver_insulin_delay_rate", "liver_output_insulin_effect", "hepatic_uptake_fraction")
TARGETS = (  # name, published, spread (see the docstring)
    ("newcastle_output_30min_of_basal", 0.50, 0.10),
    ("newcastle_output_60_240min_of_basal", 0.349, 0.035),
    ("taylor_output_60_255min_of_basal", 0.21, 0.05),
    ("taylor_net_synthesis_share_of_carbohydrate", 0.19, 0.025),
    ("krssak_controls_net_synthesis_mg_kg_min", 1.36, 0.15),
    ("clamp_20mU_output_suppression_percent", 70.0, 10.0),
)


def _meal_readings(parameters: dict, meal: dict) -> dict:
    from glucosim.parameters import load_parameter_table
    from glucosim.physiology.indices import Par

    trace = meal_day(parameters, meal)
    hours = trace["clock_h"].to_numpy()
    output = trace["liver_output_mg_kg_min"].to_numpy()
    glycogen = trace["liver_glycogen_mg_kg"].to_numpy()
    start = int(np.argmin(np.abs(hours - meal["time_h"])))
    basal = output[start - 1]  # the sample before the meal

    def mean_of_basal(from_h: float, to_h: float) -> float:
        window = (hours >= meal["time_h"] + from_h) & (hours <= meal["time_h"] + to_h)
        return float(output[window].mean() / basal)

    window = (hours >= meal["time_h"]) & (hours <= meal["time_h"] + 10.0)
    peak = int(np.flatnonzero(window)[np.argmax(glycogen[window])])
    grams = (glycogen[peak] - glycogen[start]) * load_parameter_table().vector(parameters)[Par.body_weight] / 1000.0
    return {
        "output_30min_of_basal": float(output[int(np.argmin(np.abs(hours - meal["time_h"] - 0.5)))] / basal),
        "output_60_240min_of_basal": mean_of_basal(1.0, 4.0),
        "output_60_255min_of_basal": mean_of_basal(1.0, 4.25),
        "net_synthesis_share_of_carbohydrate": grams / meal["carbs_g"],
        "store_before_meal_mg_kg": float(glycogen[start]),
    }


def _krssak_controls_synthesis(parameters: dict) -> float:
    from glucosim.calibration.measure import (
        _last_meal_min,
        _net_synthesis_after_last_meal,
        type2_liver_glycogen_control_day,
    )
    from glucosim.scenario.compile import ScenarioProgram

    result = type2_liver_glycogen_control_day(parameters)
    return _net_synthesis_after_last_meal(result.trace(0), _last_meal_min(ScenarioProgram(result.loaded), 0))


def _clamp_20mU_suppression(parameters: dict) -> float:
    import glucosim
    from glucosim._toml import load_toml
    from glucosim.clinic.runner import REFERENCE_ROUTINE_PATH, run_protocol

    scenario = {
        "name": "reference day",
        "duration_days": 2,
        "subject": {"preset": "healthy"},
        "routine": {"meals": load_toml(REFERENCE_ROUTINE_PATH)["meals"]},
    }
    result = glucosim.simulate(scenario, progress=False, state_days=(1,), **parameters)
    clamp = run_protocol("clamp_20mU", result.loaded, day=1, state=result.midnight_states[1])
    return float(clamp.indices["liver_output_suppression_percent"])


def readings(free: dict) -> dict:
    """Every target's value (and the stores before the meals) at the free values ``free``, the reference day
    re-solved with them."""
    from glucosim.calibration.measure import REFERENCE_PARAMETERS, solve_reference_day

    reference = solve_reference_day(free)
    parameters = {**free, **{name: reference[name] for name in REFERENCE_PARAMETERS}}
    newcastle = _meal_readings(parameters, MEALS["newcastle"])
    taylor = _meal_readings(parameters, MEALS["taylor"])
    return {
        "newcastle_output_30min_of_basal": newcastle["output_30min_of_basal"],
        "newcastle_output_60_240min_of_basal": newcastle["output_60_240min_of_basal"],
        "taylor_output_60_255min_of_basal": taylor["output_60_255min_of_basal"],
        "taylor_net_synthesis_share_of_carbohydrate": taylor["net_synthesis_share_of_carbohydrate"],
        "krssak_controls_net_synthesis_mg_kg_min": _krssak_controls_synthesis(parameters),
        "clamp_20mU_output_suppression_percent": _clamp_20mU_suppression(parameters),
        "store_before_taylor_meal_mg_kg": taylor["store_before_meal_mg_kg"],
    }


def weighted_residuals(values: dict) -> np.ndarray:
    return np.array([(values[name] - published) / spread for name, published, spread in TARGETS])


def show(free: dict, values: dict) -> None:
    cost = 0.5 * float(np.sum(weighted_residuals(values) ** 2))
    print(", ".join(f"{name} {value:.5g}" for name, value in free.items()) + f": cost {cost:.3f}")
    for name, published, spread in TARGETS:
        print(f"  {name:44s} {values[name]:8.3f}  (published {published:g} +- {spread:g})")
    print(f"  {'store_before_taylor_meal_mg_kg':44s} {values['store_before_taylor_meal_mg_kg']:8.0f}")


def main() -> None:
    from scipy.optimize import least_squares

    from glucosim.parameters import load_parameter_table

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--at", action="store_true", help="only read the targets at the table's (or --set) values")
    parser.add_argument("--set", action="append", default=[], metavar="NAME=VALUE", help="a free parameter's value")
    args = parser.parse_args()
    table = load_parameter_table()
    start = {name: table[name].value for name in FREE}
    for item in args.set:
        name, _, value = item.partition("=")
        if name not in FREE:
            parser.error(f"--set {item}: one of {', '.join(FREE)}")
        start[name] = float(value)
    if args.at:
        show(start, readings(start))
        return
    low = np.log([table[name].low for name in FREE])
    high = np.log([table[name].high for name in FREE])

    def residuals(log_values: np.ndarray) -> np.ndarray:
        free = dict(zip(FREE, np.exp(log_values), strict=True))
        values = readings(free)
        show(free, values)
        return weighted_residuals(values)

    fit = least_squares(residuals, np.clip(np.log(list(start.values())), low, high), bounds=(low, high), diff_step=0.05)
    best = dict(zip(FREE, np.exp(fit.x), strict=True))
    print(f"\nbest ({fit.message}):")
    show(best, readings(best))


if __name__ == "__main__":
    main()
