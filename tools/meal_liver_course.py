"""Diagnostic (issue 11): the healthy liver's glucose output and glycogen after a mixed meal, beside the published.

    PYTHONPATH=src python tools/meal_liver_course.py                     # ~5 s of CPU once compiled
    PYTHONPATH=src python tools/meal_liver_course.py --meal newcastle
    PYTHONPATH=src python tools/meal_liver_course.py --set liver_output_insulin_effect=0.007

glucosim's healthy subject (the `healthy` preset) lives the reference day (scenarios/01_healthy_baseline.toml's
meals), then on day 1 eats only one meal at 07:30, after the night: MEALS below. Printed: the liver's glucose output
(mg/kg/min and % of its value just before the meal) from 0 to 8 h and its mean over 60-240 min, its glycogen
(mg/kg), then the net glycogen synthesis to the store's peak within 10 h, in grams and as a share of the meal's
carbohydrate.

Published, read as abstracts only; nothing in glucosim is fitted to them:
- taylor (2026-12-07, thirtieth session): Taylor R et al. 1996 J Clin Invest 97:126 (PMC507070), healthy subjects
  after a liquid mixed meal: hepatic glucose output "completely suppressed within 30 min", then rising steadily from
  0.31 to 0.49 mg/kg/min between 60 and 255 min before returning towards basal (1.90); liver glycogen (13C NMR) from
  207 to 316 mmol/l, peaking at 318 +- 31 min; net synthesis 28.3 +- 3.7 g, ~19 % of the meal's carbohydrate (so
  ~150 g). The meal's fat and protein are not in the abstract: MEALS' are assumed, and gastric emptying, which they
  slow, sets much of the time course.
- newcastle (2026-12-07, thirty-first session): 8 healthy controls and 8 diet-treated type 2 diabetic subjects after
  a standard mixed meal of 550 kcal (67 % carbohydrate, 19 % fat, 14 % protein), a new tracer method (Newcastle
  and Padova, Am J Physiol Endocrinol Metab; the abstract read in a stored AJP-Endo archive, whose excerpt does not
  show the authors or the year): in the controls basal output 2.55 +- 0.12 mg/kg/min, ~50 % of basal within 30 min,
  1.05 +- 0.14 at 60 min and 0.89 +- 0.09 mg/kg/min over 60-240 min.
Krssak 2004 (Diabetes 53:3048, abstract) measured the controls' net liver glycogen synthesis after a meal at 1.36
+- 0.15 mg/kg/min (a meal of unread composition); glucosim's healthy subject after the 75 g dinner of
validation/targets/type2_liver_glycogen.toml's protocol gives 0.52 (its denominator; 2026-12-07).
That is why this is a diagnostic (docs/model.md, Liver) and not a validation case. --set changes parameters within
their plausible ranges (the scenario loader checks them); try values outside them in a worktree's
models/parameters.toml.
"""

from __future__ import annotations

import argparse

import numpy as np

MEALS = {
    "taylor": {"time_h": 7.5, "carbs_g": 150.0, "fat_g": 30.0, "protein_g": 40.0},
    "newcastle": {"time_h": 7.5, "carbs_g": 92.0, "fat_g": 11.6, "protein_g": 19.3},
}
"""The test meals. taylor: ~150 g of carbohydrate (Taylor's 28.3 g at ~19 %); 30 g fat and 40 g protein are
assumptions, not read. newcastle: 550 kcal, 67 % carbohydrate, 19 % fat, 14 % protein (read), at 4, 9 and 4 kcal/g."""
PUBLISHED = {
    "taylor": (
        "published (Taylor 1996, abstract): output completely suppressed within 30 min, 0.31 -> 0.49 mg/kg/min over",
        "  60-255 min, then back towards 1.90; glycogen peak at 318 +- 31 min, net synthesis 28.3 +- 3.7 g (~19 %)",
    ),
    "newcastle": (
        "published (8 healthy controls, a 550 kcal mixed meal, tracer; Newcastle and Padova, Am J Physiol",
        "  Endocrinol Metab, an abstract whose excerpt shows no authors): basal output 2.55 +- 0.12 mg/kg/min, ~50 %",
        "  of basal within 30 min, 1.05 +- 0.14 at 60 min, 0.89 +- 0.09 mg/kg/min (35 % of basal) over 60-240 min",
    ),
}
READ_MIN = (0, 15, 30, 60, 120, 180, 240, 255, 300, 360, 420, 480)
PEAK_WITHIN_H = 10.0


def meal_day(overrides: dict[str, float], meal: dict):
    """Day 1's trace (glucosim.SimulationResult.trace) of the healthy subject with ``overrides`` eating ``meal``."""
    import glucosim
    from glucosim._toml import load_toml
    from glucosim.clinic.runner import REFERENCE_ROUTINE_PATH

    scenario = {
        "name": "a large mixed meal after the night (Taylor 1996's protocol, meal assumed)",
        "duration_days": 2,
        "subject": {"preset": "healthy"},
        "routine": {"meals": load_toml(REFERENCE_ROUTINE_PATH)["meals"]},
        "changes": [{"from_day": 1, "label": "the test meal", "meals": [meal]}],
    }
    return glucosim.simulate(scenario, progress=False, trajectory_days=(1,), **overrides).trace(1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--set", action="append", default=[], metavar="NAME=VALUE", help="a parameter what-if")
    parser.add_argument("--meal", choices=sorted(MEALS), default="taylor", help="the test meal (default: taylor)")
    args = parser.parse_args()
    meal = MEALS[args.meal]
    from glucosim.parameters import load_parameter_table
    from glucosim.physiology.indices import Par

    overrides = {name: float(value) for name, value in (item.split("=", 1) for item in args.set)}
    trace = meal_day(overrides, meal)
    hours = trace["clock_h"].to_numpy()
    output = trace["liver_output_mg_kg_min"].to_numpy()
    glycogen = trace["liver_glycogen_mg_kg"].to_numpy()
    start = int(np.argmin(np.abs(hours - meal["time_h"])))
    before = output[start - 1]  # the sample before the meal: its basal output
    print(f"healthy subject, {meal} on day 1" + (f", {overrides}" if overrides else ""))
    for minute in READ_MIN:
        i = int(np.argmin(np.abs(hours - (meal["time_h"] + minute / 60.0))))
        print(
            f"  {minute:4d} min  liver output {output[i]:5.2f} mg/kg/min ({100 * output[i] / before:5.1f} % of"
            f" before the meal)  glycogen {glycogen[i]:6.0f} mg/kg"
        )
    window = (hours >= meal["time_h"]) & (hours <= meal["time_h"] + PEAK_WITHIN_H)
    peak = int(np.flatnonzero(window)[np.argmax(glycogen[window])])
    weight_kg = load_parameter_table().vector(overrides)[Par.body_weight]
    grams = (glycogen[peak] - glycogen[start]) * weight_kg / 1000.0
    print(
        f"  net glycogen synthesis to the peak ({60 * (hours[peak] - meal['time_h']):.0f} min after the meal):"
        f" {grams:.1f} g, {100 * grams / meal['carbs_g']:.0f} % of the meal's carbohydrate"
    )
    after = (hours >= meal["time_h"] + 1.0) & (hours <= meal["time_h"] + 4.0)
    print(
        f"  mean liver output over 60-240 min: {output[after].mean():.2f} mg/kg/min"
        f" ({100 * output[after].mean() / before:.0f} % of before the meal)"
    )
    print("\n".join(PUBLISHED[args.meal]))


if __name__ == "__main__":
    main()
