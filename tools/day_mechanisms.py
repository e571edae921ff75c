"""Which mechanism keeps the diabetic day high between meals and at night (issue 11, the UKPDS HbA1c)?

Scenario 03's subject under the UKPDS conventional arm's protocol from its presentation (3 months of energy-restricted
diet, then diet therapy holding the weight, sensitivity held: glucosim.calibration.course.diet_therapy_scenario), on
the days the course reads (1 and 6 years after randomisation), with one mechanism changed at a time. Measurements in
the docs made with this tool before 2026-12-06 (evening) are of the protocol then: the diet from the diagnosis at the
same energy, the years counted from the diagnosis. Two kinds of what-if:

- the day (default): the changed day is integrated from the protocol run's own midnight state 4 days before it
  (tools/postprandial_day.py's what-if: slow states, beta cells included, are the shipped course's), so only the
  fast response differs;
- the course (``--course``): the change applied to the whole run (as a change of the model would be), and the
  course quantities of glucosim.calibration.course read as the validation page reads them (diagnosis, HbA1c and
  fasting glucose 1 and 6 years after randomisation on diet).

Per day: glucose before breakfast (fasting), lunch and dinner, the night's mean (00-06 h), the 24-h mean and minimum;
carbohydrate still in the stomach (solid + liquid) before lunch, before dinner and at midnight, as a percentage of
the preceding meal's carbohydrate; and the meal glucose appearing in plasma (Ra, mg/kg/min) at those moments.

    PYTHONPATH=src python tools/day_mechanisms.py              # the day what-ifs (~15 s of CPU)
    PYTHONPATH=src python tools/day_mechanisms.py --course     # + the course what-ifs (~4 s of CPU each)
    PYTHONPATH=src python tools/day_mechanisms.py --only base --only "fat brake off"   # named variants only
    PYTHONPATH=src python tools/day_mechanisms.py --retention  # a single meal's carbohydrate left in the stomach

Glucose in mg/dl.
"""

from __future__ import annotations

import argparse
import sys

import numpy as np

from glucosim.physiology.units import MG_DL_PER_MMOL_L, grams_to_mg_per_kg

SCENARIO = "03_insulin_resistance_low_reserve"
SETTLE_DAYS = 4
BASE_OVERRIDES: dict[str, float] = {}
"""Parameter overrides of the whole base run (``--base-set``): the what-ifs are then relative to that model."""


def _table_value(name: str) -> float:
    from glucosim.parameters import load_parameter_table

    return float(load_parameter_table()[name].value)


VARIANTS: dict[str, dict[str, float]] = {
    "base": {},
    # the gut: the duodenal fat brake (E50), the energy cap (F_max), DM2007's kmin plateau (table values: --help)
    "fat brake E50 x5": {"duodenal_fat_brake_half_kcal": 5.0 * _table_value("duodenal_fat_brake_half_kcal")},
    "fat brake off (E50 200)": {"duodenal_fat_brake_half_kcal": 200.0},
    "energy cap off (F_max 10)": {"gastric_energy_emptying_max": 10.0},
    "brake + cap off": {"duodenal_fat_brake_half_kcal": 200.0, "gastric_energy_emptying_max": 10.0},
    "DM2007 tail short (d 0.3)": {"gastric_emptying_shape_d": 0.3},
    # the body clock: insulin action and beta-cell responsiveness peak at 08:00, the liver's drive at 05:00
    "clock off (all amplitudes 0)": {
        "circadian_sensitivity_amplitude": 0.0,
        "circadian_secretion_amplitude": 0.0,
        "circadian_liver_amplitude": 0.0,
    },
    "clock: sensitivity amp 0": {"circadian_sensitivity_amplitude": 0.0},
    "clock: secretion amp 0": {"circadian_secretion_amplitude": 0.0},
    "clock: peak at 12:00": {"circadian_tolerance_peak_h": 12.0},
    "clock: amplitudes 0.3": {"circadian_sensitivity_amplitude": 0.3, "circadian_secretion_amplitude": 0.3},
    "clock: liver (dawn) amp 0.2": {"circadian_liver_amplitude": 0.2},
    # the kidney: the titration curve that matches the clamps (docs/validation.md, urinary glucose)
    "kidney TmG 300, splay 50": {"renal_glucose_tm": 300.0, "renal_glucose_splay": 50.0},
    # the liver between meals: faster delayed insulin action on output; the beta cells' second phase
    "liver insulin delay x2 faster": {"liver_insulin_delay_rate": 2.0 * _table_value("liver_insulin_delay_rate")},
    "second phase x2 faster": {"secretion_delay_rate": 2.0 * _table_value("secretion_delay_rate")},
    # the second-meal effect's carriers in glucosim: NEFA on liver output and muscle uptake
    "NEFA effects off": {"liver_output_nefa_gain": 0.0, "muscle_uptake_nefa_gain": 0.0},
}
"""What-ifs by parameter-table name (each inside its plausible range: the table refuses others)."""


def day_measures(trace, meals) -> dict[str, float]:
    """Pre-meal glucose, night, mean; stomach carbohydrate left (% of the preceding meal's) and Ra at those times."""
    clock = trace["clock_h"].to_numpy()
    glucose = trace["glucose_mg_dl"].to_numpy()
    ra = trace["gut_appearance_mg_kg_min"].to_numpy()
    times = [float(meal.time_h) for meal in meals]

    def at(values, hour):
        return float(np.interp(hour - 1e-6, clock, values))  # just before a meal's jump

    night = (clock >= 0.0) & (clock < 6.0)
    out = {
        "fasting": at(glucose, times[0]),
        "pre_lunch": at(glucose, times[1]),
        "pre_dinner": at(glucose, times[2]),
        "night_0_6h": float(glucose[night].mean()),
        "mean_24h": float(glucose[:-1].mean()),
        "min": float(glucose.min()),
        "rise_breakfast": float(glucose[(clock >= times[0]) & (clock < times[1])].max()) - at(glucose, times[0]),
        "rise_lunch": float(glucose[(clock >= times[1]) & (clock < times[2])].max()) - at(glucose, times[1]),
        "rise_dinner": float(glucose[clock >= times[2]].max()) - at(glucose, times[2]),
        "ra_pre_lunch": at(ra, times[1]),
        "ra_pre_dinner": at(ra, times[2]),
        "ra_midnight": float(ra[-1]),
    }
    return out


def stomach_shares(trace, meal_times_h, meal_doses_mg_kg) -> dict[str, float]:
    """Carbohydrate in the stomach before lunch, before dinner and at midnight, % of the preceding meal's."""
    clock = trace["clock_h"].to_numpy()
    stomach = (trace["stomach_solid_mg_kg"] + trace["stomach_liquid_mg_kg"]).to_numpy()

    def at(hour):
        return float(np.interp(hour - 1e-6, clock, stomach))

    return {
        "stomach_pre_lunch_pct": 100.0 * at(meal_times_h[1]) / meal_doses_mg_kg[0],
        "stomach_pre_dinner_pct": 100.0 * at(meal_times_h[2]) / meal_doses_mg_kg[1],
        "stomach_midnight_pct": 100.0 * float(stomach[-1]) / meal_doses_mg_kg[2],
    }


def protocol_run(years_after_randomisation=(1.0, 6.0), on_the_day: bool = False):
    """(protocol scenario, its run with the midnight states SETTLE_DAYS before each marked day, marked days).

    ``on_the_day``: also keep the midnight state of each marked day itself."""
    import glucosim
    from glucosim.calibration.course import UKPDS_RUN_IN_DAYS, diet_therapy_scenario, presentation_day

    loaded = glucosim.load_scenario(SCENARIO, **BASE_OVERRIDES)
    first = glucosim.simulate(loaded, progress=False)
    presented = presentation_day(first.daily)
    if presented is None:
        raise SystemExit(f"{SCENARIO}: no presentation (HbA1c 9.1 % after the diagnosis) in the run")
    base = diet_therapy_scenario(loaded, presented)
    randomised = presented + UKPDS_RUN_IN_DAYS
    days = [(f"+{years:g} y", int(round(randomised + years * 365.25))) for years in years_after_randomisation]
    starts = tuple(day - SETTLE_DAYS for _, day in days)
    if on_the_day:
        starts += tuple(day for _, day in days)
    result = glucosim.simulate(base, progress=False, state_days=starts)
    return base, result, days


def day_table(names: list[str]) -> None:
    import glucosim
    from glucosim.physiology.indices import Par
    from glucosim.simulation.trace import recompute_trace

    base, result, days = protocol_run()
    weight = float(result.loaded.parameters[Par.body_weight])
    rows = []
    for label, day in days:
        meals = result.loaded.scenario.changes[-1].meals
        times = [float(m.time_h) for m in meals]
        doses = [grams_to_mg_per_kg(m.carbs_g, weight) for m in meals]
        for name in names:
            overrides = VARIANTS[name]
            loaded = glucosim.load_scenario(base, **overrides) if overrides else base
            start = day - SETTLE_DAYS
            trace = recompute_trace(loaded, start, result.midnight_states[start], day, 1e-6)
            measures = day_measures(trace, meals) | stomach_shares(trace, times, doses)
            rows.append((label, name, measures))
    header = (
        f"{'day':6s}{'what-if':32s}{'fast':>6s}{'preL':>6s}{'preD':>6s}{'night':>6s}{'mean':>6s}{'min':>6s}"
        f"{'stL%':>6s}{'stD%':>6s}{'st0%':>6s}{'RaL':>6s}{'RaD':>6s}{'Ra0':>6s}{'riseB':>6s}{'riseL':>6s}{'riseD':>6s}"
    )
    print("day what-ifs (from the protocol run's state 4 days before; pre-meal = just before the meal)")
    print(header)
    for label, name, m in rows:
        print(
            f"{label:6s}{name[:31]:32s}{m['fasting']:6.0f}{m['pre_lunch']:6.0f}{m['pre_dinner']:6.0f}"
            f"{m['night_0_6h']:6.0f}{m['mean_24h']:6.0f}{m['min']:6.0f}{m['stomach_pre_lunch_pct']:6.0f}"
            f"{m['stomach_pre_dinner_pct']:6.0f}{m['stomach_midnight_pct']:6.0f}{m['ra_pre_lunch']:6.2f}"
            f"{m['ra_pre_dinner']:6.2f}{m['ra_midnight']:6.2f}{m['rise_breakfast']:6.0f}{m['rise_lunch']:6.0f}"
            f"{m['rise_dinner']:6.0f}"
        )
    print(
        "stL/stD/st0: carbohydrate in the stomach before lunch / before dinner / at midnight, % of the preceding "
        "meal's; Ra: meal glucose appearance (mg/kg/min) at those moments; rise: each meal's peak over the glucose "
        "before it"
    )


def course_table(names: list[str]) -> None:
    from glucosim.calibration.course import course_measures, course_runs
    from glucosim.physiology.indices import Par

    keys = (
        ("diagnosis_year", "diag y"),
        ("fasting_glucose_1y_after_diagnosis_mg_dl", "FPG 1y"),
        ("fasting_glucose_rise_1_to_6y_after_diagnosis_mg_dl", "dFPG"),
        ("hba1c_1y_after_diagnosis_percent", "A1c 1y"),
        ("hba1c_6y_after_diagnosis_percent", "A1c 6y"),
    )
    print("\ncourse what-ifs (the change applied to the whole run; UKPDS 16: FPG 148, +23 mg/dl, HbA1c 6.8 and 8.0 %)")
    print(f"{'what-if':32s}" + "".join(f"{short:>8s}" for _, short in keys))
    for name in names:
        loaded, daily, after = course_runs(SCENARIO, **(BASE_OVERRIDES | VARIANTS[name]))
        m = course_measures(daily, float(loaded.parameters[Par.body_weight]), after)
        print(f"{name[:31]:32s}" + "".join(f"{m[key]:8.2f}" for key, _ in keys))


def lunch_response(trace, lunch_h: float, hours: float = 4.0) -> dict[str, float]:
    """Lunch: glucose before it, its maximum rise, its incremental area (above the pre-lunch value) over ``hours``."""
    clock = trace["clock_h"].to_numpy()
    glucose = trace["glucose_mg_dl"].to_numpy()
    before = float(np.interp(lunch_h - 1e-6, clock, glucose))
    window = (clock >= lunch_h) & (clock <= lunch_h + hours)
    step_h = float(clock[1] - clock[0])
    rise = np.clip(glucose[window] - before, 0.0, None)
    return {
        "pre_lunch": before,
        "max_rise_mmol_l": float(rise.max()) / MG_DL_PER_MMOL_L,
        "iauc_mmol_h_l": float(rise.sum()) * step_h / MG_DL_PER_MMOL_L,
        "nefa_pre_lunch": float(np.interp(lunch_h - 1e-6, clock, trace["nefa_mmol_l"].to_numpy())),
        "insulin_peak_uU_ml": float(trace["insulin_uU_ml"].to_numpy()[window].max()),
        "insulin_pre_lunch_uU_ml": float(np.interp(lunch_h - 1e-6, clock, trace["insulin_uU_ml"].to_numpy())),
    }


def second_meal_table(names: list[str]) -> None:
    """The second-meal effect: lunch with and without breakfast on the same day (from the same midnight state).

    Published (abstracts read): Jovanovic, Gerrard & Taylor 2009 Diabetes Care 32:1199, 8 obese people with type 2
    diabetes (HbA1c 6.7 %, diet and/or metformin): the incremental glucose area after lunch 0.68 +- 1.49 with
    breakfast against 12.32 +- 1.73 mmol h/l without, at comparable insulin; pre-lunch NEFA related to the rise
    (r = 0.67). Jovanovic et al. 2009 Clin Sci 117:119, healthy: lunch rise 0.9 +- 0.3 against 3.2 +- 0.3 mmol/l;
    pre-lunch NEFA 0.13 +- 0.03 against 0.51 +- 0.04 mmol/l.
    """
    import glucosim
    from glucosim.simulation.trace import recompute_trace

    base, result, days = protocol_run()
    healthy = glucosim.load_scenario("01_healthy_baseline", **BASE_OVERRIDES)
    healthy_run = glucosim.simulate(healthy, progress=False, state_days=(30,))
    print("\nsecond-meal effect: lunch with / without breakfast (4-h incremental area above pre-lunch glucose)")
    print(
        f"{'subject':18s}{'what-if':32s}{'breakfast':>10s}{'preL':>6s}{'rise':>7s}{'iAUC':>7s}{'NEFA':>6s}"
        f"{'ins0':>6s}{'insPk':>7s}"
    )
    subjects = [(label, base, result, day) for label, day in days]
    subjects.append(("01 healthy", healthy, healthy_run, SETTLE_DAYS + 30))
    for label, loaded0, run, day in subjects:
        start = day - SETTLE_DAYS
        routine = loaded0.scenario.changes[-1] if loaded0.scenario.changes else loaded0.scenario.routine
        meals = [meal.model_dump(exclude_none=True) for meal in routine.meals]
        lunch_h = float(meals[1]["time_h"])
        for name in names:
            for eaten in (True, False):
                day_meals = meals if eaten else meals[1:]
                changes = [*loaded0.scenario.model_dump(exclude_none=True).get("changes", ())]
                changes.append({"from_day": day, "label": "second-meal test", "meals": day_meals})
                loaded = glucosim.load_scenario(loaded0, changes=changes, **VARIANTS[name])
                trace = recompute_trace(loaded, start, run.midnight_states[start], day, 1e-6)
                m = lunch_response(trace, lunch_h)
                print(
                    f"{label:18s}{name[:31]:32s}{'yes' if eaten else 'no':>10s}{m['pre_lunch']:6.0f}"
                    f"{m['max_rise_mmol_l']:7.2f}{m['iauc_mmol_h_l']:7.2f}{m['nefa_pre_lunch']:6.2f}"
                    f"{m['insulin_pre_lunch_uU_ml']:6.1f}{m['insulin_peak_uU_ml']:7.1f}"
                )
    print(
        "published: T2D (Jovanovic 2009 Diabetes Care 32:1199) iAUC 0.68 with breakfast vs 12.32 mmol h/l without; "
        "healthy (Jovanovic 2009 Clin Sci 117:119) rise 0.9 vs 3.2 mmol/l, pre-lunch NEFA 0.13 vs 0.51 mmol/l"
    )


def retention_table() -> None:
    """A single meal's carbohydrate left in the stomach, gut equations alone (calibration.measure)."""
    import glucosim
    from glucosim.calibration.measure import stomach_fraction_left
    from glucosim.parameters import load_parameter_table
    from glucosim.physiology.indices import Par

    weight = float(glucosim.load_scenario(SCENARIO).parameters[Par.body_weight])
    meals = {
        "UKPDS breakfast 60 g C, 16 F, 24 P": (60.0, 16.0, 24.0),
        "UKPDS lunch/dinner 80 g C, 21 F, 32 P": (80.0, 64.0 / 3.0, 32.0),
        "carbohydrate only, 80 g": (80.0, 0.0, 0.0),
    }
    hours = (1.0, 2.0, 4.0, 6.5, 12.0)
    print(f"\ncarbohydrate left in the stomach after a single meal (% of its carbohydrate; {weight:.1f} kg subject)")
    print(f"{'what-if':32s}{'meal':40s}" + "".join(f"{h:>7.1f}h" for h in hours))
    for name in ("base", "fat brake E50 x5", "fat brake off (E50 200)", "brake + cap off"):
        p = load_parameter_table().vector()
        p[Par.body_weight] = weight
        for key, value in VARIANTS[name].items():
            p[Par[key]] = value
        for meal, (carbs, fat, protein) in meals.items():
            left = [100.0 * stomach_fraction_left(carbs, fat, protein, h, parameters=p) for h in hours]
            print(f"{name[:31]:32s}{meal:40s}" + "".join(f"{value:8.1f}" for value in left))


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", action="append", help=f"variants to run (default all): {', '.join(VARIANTS)}")
    parser.add_argument("--course", action="store_true", help="also the course what-ifs (whole run)")
    parser.add_argument("--no-day", action="store_true", help="skip the day what-ifs")
    parser.add_argument("--retention", action="store_true", help="a single meal's stomach retention")
    parser.add_argument("--base-set", action="append", default=[], help="NAME=VALUE for the whole base run")
    parser.add_argument("--set", action="append", default=[], help="NAME=VALUE: an extra what-if, named 'what-if'")
    parser.add_argument("--second-meal", action="store_true", help="lunch with and without breakfast")
    args = parser.parse_args(argv)
    BASE_OVERRIDES.update({item.partition("=")[0]: float(item.partition("=")[2]) for item in args.base_set})
    if args.set:
        VARIANTS["what-if"] = {item.partition("=")[0]: float(item.partition("=")[2]) for item in args.set}
    names = args.only or list(VARIANTS)
    if args.set and "what-if" not in names:
        names.append("what-if")
    unknown = [name for name in names if name not in VARIANTS]
    if unknown:
        parser.error(f"unknown variant(s) {unknown}; known: {list(VARIANTS)}")
    if args.retention:
        retention_table()
    if args.second_meal:
        second_meal_table(names)
    if not args.no_day:
        day_table(names)
    if args.course:
        course_table(names)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
