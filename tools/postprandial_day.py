"""The diabetic day beside published day-long profiles and mixed-meal tracer studies (issue 11, postprandial).

Puts scenario 03's subject (sensitivity falling 3.5 % a year, low reserve, untreated) at diagnosis (the first
day fasting glucose reaches 126 mg/dl) and 1 and 6 years after it beside published numbers: fasting glucose,
each meal's rise and peak, the day's mean and its excess over fasting, and the breakfast's fluxes (endogenous
output and its suppression, insulin secretion, glucose uptake). The healthy subject (scenario 01) is shown for
reference. Each published row says what was read (full text, abstract, or a secondary copy).

    PYTHONPATH=src python tools/postprandial_day.py            # scenario 03 and 01, ~10 s of CPU
    PYTHONPATH=src python tools/postprandial_day.py --mixed    # + the same days with scenario 32's mixed meals
    PYTHONPATH=src python tools/postprandial_day.py --set secretion_hill=3   # + a what-if (table names)
    PYTHONPATH=src python tools/postprandial_day.py --protocol # the days of the course as measured: UKPDS protocol
    PYTHONPATH=src python tools/postprandial_day.py --course   # course quantities: as measured, as it is, what-ifs

A what-if day (--set, --mixed) starts from the shipped run's own state a few midnights before it, so its slow states
(beta cells, sensitivity, weight) are the shipped course's and only the fast response differs. --protocol shows the days
of the run the course targets read after diagnosis: the scenario under the UKPDS conventional arm's protocol from its
presentation (3 months of energy-restricted diet, then diet therapy holding the weight, sensitivity held:
glucosim.calibration.course.diet_therapy_scenario), 1 and 6 years after randomisation. --course prints the course
quantities measured that way, of the scenario left as it is (the measurement before 2026-12-03), and of what-ifs from
the presentation on (at the same energy): the diet alone, sensitivity held alone, and scenario 32's mixed
meals with sensitivity held (the diagnostic that suggested the protocol).

Glucose in mg/dl, fluxes in mg/kg/min (per kg of the starting weight), secretion in pmol/kg/min.
"""

from __future__ import annotations

import argparse
import sys

import numpy as np

PUBLISHED = (
    # (what, value, source and what was read)
    (
        "T2D, HbA1c 8-8.9 % (n=25), CGM: nocturnal (fasting) mean glucose",
        "8.4 mmol/l = 151 mg/dl (ADAG mean for HbA1c 8.5 %: 197 mg/dl, so mean - nocturnal ~46)",
        "Monnier 2007 Diabetes Care 30:263 (abstract): groups 3 and 4 nocturnal 6.3 vs 8.4 mmol/l",
    ),
    (
        "T2D, HbA1c 6.5-6.9 vs <6.5 %: daytime postprandial mean glucose",
        "7.7 vs 6.4 mmol/l (139 vs 115 mg/dl)",
        "Monnier 2007 Diabetes Care 30:263 (abstract)",
    ),
    (
        "T2D, 290 non-insulin-treated, 4-point profile: postprandial share of the day's excess over 6.1 mmol/l",
        "69.7 % (lowest HbA1c quintile, <7.3 %) to 30.5 % (highest, >10.2 %)",
        "Monnier 2003 Diabetes Care 26:881 (abstract); Monnier 2006 Endocr Pract 12 Suppl 1:42 (abstract)",
    ),
    (
        "T2D, 200 non-insulin-treated: plasma glucose 08:00 / 11:00 / 14:00 / 17:00",
        "8.8 / 12.0 / 10.5 / 8.6 mmol/l (159 / 216 / 189 / 155 mg/dl: +57, +30, -4 over fasting)",
        "Monnier 2002 Diabetes Care 25:737 (abstract)",
    ),
    (
        "drug-naive T2D inpatients (n=30, median HbA1c 7.6 %), CGM: rise of glucose per meal, time to peak",
        "83-109 mg/dl, 70-85 min",
        "Ando 2013 PLoS ONE 8:e71102 (abstract)",
    ),
    (
        "diet-treated T2D (n=237, HbA1c 6.8 %): blood glucose before breakfast / lunch / dinner",
        "6.77 / 6.09 / 5.84 mmol/l (122 / 110 / 105 mg/dl): pre-meal glucose falls through the day",
        "Trovati et al. 2002 Eur J Clin Invest 32(3) (abstract; pages not read)",
    ),
    (
        "diet-controlled T2D (n=8), 550 kcal mixed meal (92 g carbohydrate): basal EGP; EGP at 60 min; "
        "mean EGP 60-240 min; nadir",
        "2.92; 1.75 (controls 1.05); 1.31 (controls 0.89) mg/kg/min; 0.96 at 210 min; ~50 % of basal by 30 min",
        "Newcastle/Padova tracer study, Am J Physiol Endocrinol Metab (abstract read in a stored copy; attributed to "
        "Singhal et al. 2002, 283:E275, citation not verified there)",
    ),
    (
        "T2D vs controls, mixed meal with 13C MRS: postprandial EGP excess; net hepatic glycogen synthesis",
        "+0.3 mg/kg/min (30-170 min); 0.76 vs 1.36 mg/kg/min",
        "Krssak 2004 Diabetes 53:3048 (abstract)",
    ),
    (
        "IFG/diabetes vs normal fasting glucose, labelled meal: EGP suppression; what lowers postprandial disposal",
        "EGP promptly suppressed in all groups; glucose disappearance lower (less insulin action and secretion)",
        "Mayo/Padova, Diabetes 2006 (Dec issue; abstract read in a secondary copy at 100md.com; attributed to Bock et "
        "al. 2006 Diabetes 55:3536, citation not verified there)",
    ),
    (
        "T2D on oral agents (n=306, HbA1c 7.1 %), CGM + SMBG: before/2 h after breakfast, before lunch/dinner, "
        "bedtime, nocturnal nadir",
        "136 / 167, 134 / 146, 152, 115 mg/dl (nadir 22 below pre-breakfast)",
        "Wu 2017 Int J Endocrinol 2017:7174958, Table 1 (read in the stored page)",
    ),
    (
        "non-insulin-treated T2D (n=248; 53 on diet alone), CGM: rise from nocturnal nadir to pre-breakfast",
        "median 16 mg/dl (IQR 0-31.5); adds ~12 mg/dl to the 24-h mean",
        "PMC3836163 (abstract read; attributed to Monnier et al. 2013 Diabetes Care, citation not verified there)",
    ),
    (
        "T2D (n=52), three identical test meals: absolute postprandial contribution to excess HbA1c by control",
        "1.4, 1.6 and 1.3 HbA1c points for HbA1c <7.3, 7.3-8.0, >8.0 % (constant; ~40-45 mg/dl of mean glucose)",
        "Peter 2009 Diabet Med 26:974 (abstract)",
    ),
    (
        "Dalla Man 2007 type 2 column against normal: kp2, kp3, kp4 (EGP: glucose, delayed and portal insulin)",
        "0.0007 / 0.0021, 0.005 / 0.009, 0.0786 / 0.0618: portal suppression kept, delayed insulin's reduced",
        "secondary, unverified: github evabowe/Insulinpumpe system_parameters.py (paper's Table 1 not read)",
    ),
)


def meal_times_h(loaded) -> list[float]:
    return [float(meal.time_h) for meal in loaded.scenario.routine.meals]


def day_measures(trace, meals_h: list[float]) -> dict[str, float]:
    """Glucose and flux measures of one 5-minute day trace."""
    clock = trace["clock_h"].to_numpy()
    glucose = trace["glucose_mg_dl"].to_numpy()
    step_h = float(clock[1] - clock[0])

    def at(hour):
        return float(np.interp(hour, clock, glucose))

    def window(start_h, end_h):
        return (clock >= start_h - 1e-9) & (clock < end_h - 1e-9)

    out = {
        "fasting": at(meals_h[0]),
        "mean_24h": float(glucose.mean()),
        "night_0_6h": float(glucose[window(0.0, 6.0)].mean()),
        "min": float(glucose.min()),
        "max": float(glucose.max()),
    }
    out["excess_over_fasting"] = out["mean_24h"] - out["fasting"]
    # Monnier 2002's four-point profile (08:00 before breakfast, 11:00, 14:00, 17:00), here relative to the meals
    out["breakfast_3h_over_fasting"] = at(meals_h[0] + 3.0) - out["fasting"]
    out["lunch_2h_over_fasting"] = at(meals_h[1] + 2.0) - out["fasting"]
    out["lunch_5h_over_fasting"] = at(meals_h[1] + 5.0) - out["fasting"]
    # Monnier 2003's split of daytime hyperglycaemia, 08:00-17:00 there, here breakfast to 9.5 h after it:
    # the area above fasting glucose (postprandial) over the area above 6.1 mmol/l (110 mg/dl; all excess)
    daytime = window(meals_h[0], meals_h[0] + 9.5)
    above_fasting = np.clip(glucose[daytime] - out["fasting"], 0.0, None).sum()
    above_110 = np.clip(glucose[daytime] - 110.0, 0.0, None).sum()
    # defined, as in Monnier's patients, only with fasting glucose above 110 (below it the share exceeds 100 %)
    defined = above_110 > 0.0 and out["fasting"] >= 110.0
    out["postprandial_share_pct"] = 100.0 * above_fasting / above_110 if defined else float("nan")
    ends = [*meals_h[1:], 24.0 + meals_h[0]]
    for index, (start, end) in enumerate(zip(meals_h, ends)):
        span = window(start, min(end, 24.0))
        peak = float(glucose[span].max())
        out[f"meal{index + 1}_premeal"] = at(start)
        out[f"meal{index + 1}_peak"] = peak
        out[f"meal{index + 1}_rise"] = peak - at(start)
        out[f"meal{index + 1}_peak_min"] = float((clock[span][np.argmax(glucose[span])] - start) * 60.0)
        out[f"meal{index + 1}_2h"] = at(start + 2.0)
    # breakfast fluxes: basal = the 30 min before it; the meal = 0-4 h after it
    start = meals_h[0]
    basal, meal = window(start - 0.5, start), window(start, start + 4.0)
    early, late = window(start, start + 1.0), window(start + 1.0, start + 4.0)
    egp = trace["liver_output_mg_kg_min"].to_numpy()
    secretion = trace["secretion_pmol_kg_min"].to_numpy()
    uptake = (
        trace["muscle_uptake_mg_kg_min"]
        + trace["adipose_uptake_mg_kg_min"]
        + trace["brain_uptake_mg_kg_min"]
        + trace["splanchnic_uptake_mg_kg_min"]
        + trace["liver_uptake_mg_kg_min"]
    ).to_numpy()
    out |= {
        "egp_basal": float(egp[basal].mean()),
        "egp_0_1h": float(egp[early].mean()),
        "egp_1_4h": float(egp[late].mean()),
        "egp_nadir": float(egp[meal].min()),
        "egp_suppression_0_4h_pct": 100.0 * (1.0 - egp[meal].mean() / egp[basal].mean()),
        "secretion_basal": float(secretion[basal].mean()),
        "secretion_0_4h": float(secretion[meal].mean()),
        "secretion_peak": float(secretion[meal].max()),
        "insulin_basal_uU_ml": float(trace["insulin_uU_ml"].to_numpy()[basal].mean()),
        "insulin_peak_uU_ml": float(trace["insulin_uU_ml"].to_numpy()[meal].max()),
        "uptake_basal": float(uptake[basal].mean()),
        "uptake_0_4h": float(uptake[meal].mean()),
        "muscle_0_4h": float(trace["muscle_uptake_mg_kg_min"].to_numpy()[meal].mean()),
        "liver_uptake_0_4h": float(trace["liver_uptake_mg_kg_min"].to_numpy()[meal].mean()),
        "gut_ra_0_4h": float(trace["gut_appearance_mg_kg_min"].to_numpy()[meal].mean()),
        "renal_0_4h": float(trace["renal_excretion_mg_kg_min"].to_numpy()[meal].mean()),
        "gut_ra_day_mg_kg": float(trace["gut_appearance_mg_kg_min"].sum() * step_h * 60.0),
    }
    return out


MIXED_MEALS = (
    {"time_h": 7.5, "carbs_g": 60, "fat_g": 15, "protein_g": 20},
    {"time_h": 12.5, "carbs_g": 80, "fat_g": 25, "protein_g": 30},
    {"time_h": 19.0, "carbs_g": 80, "fat_g": 30, "protein_g": 35},
)
"""Scenario 32's ordinary mixed meals: scenario 03's carbohydrate (60/80/80 g, same times) with fat and protein."""
SETTLE_DAYS = 4
"""A what-if day starts from the shipped run's state this many midnights earlier (the fast states settle in a day)."""


def mixed_meal_routine(loaded) -> dict:
    """The scenario's routine with scenario 32's mixed meals, at the same energy intake (the other food cut by their
    fat and protein energy, so weight and the slow states follow the same course)."""
    from glucosim.physiology._jit import as_python
    from glucosim.physiology.body import balance_intake_kcal_day, meal_energy_kcal

    routine = loaded.scenario.routine.model_dump(exclude_none=True)
    p = loaded.parameters
    carbs_only = sum(meal_energy_kcal(meal["carbs_g"], 0.0, 0.0, p) for meal in MIXED_MEALS)
    mixed = sum(meal_energy_kcal(meal["carbs_g"], meal["fat_g"], meal["protein_g"], p) for meal in MIXED_MEALS)
    other = routine.get("other_food_kcal_per_day", "balance")
    if other == "balance":
        other = float(as_python(balance_intake_kcal_day)(p)) - carbs_only
    routine["meals"] = [dict(meal) for meal in MIXED_MEALS]
    routine["other_food_kcal_per_day"] = max(other - (mixed - carbs_only), 0.0)
    return routine


def marked_days(daily, presented: int | None = None) -> list[tuple[str, int]]:
    """(label, day): the diagnosis (first fasting glucose >= 126 mg/dl) and 1 and 6 years after; else day 1. With
    ``presented`` (the presentation day, glucosim.calibration.course.presentation_day of the untreated run), the days
    the course reads under the UKPDS protocol: the presentation and 1 and 6 years after randomisation, 3 months later
    (glucosim.calibration.course.course_measures)."""
    from glucosim.calibration.course import UKPDS_RUN_IN_DAYS, diagnosis_day

    onset, year = diagnosis_day(daily), 365.25
    if onset is None:
        return [("day 1", 1)]
    if presented is None:
        days, start = [("diagnosis", onset)], onset
    else:
        days, start = [("presentation", presented)], presented + UKPDS_RUN_IN_DAYS
    days += [("+1 y", int(round(start + year))), ("+6 y", int(round(start + 6 * year)))]
    return [(label, day) for label, day in days if day < len(daily)]


def run(
    scenario: str, overrides: dict[str, float], mixed: bool, protocol: bool = False
) -> list[tuple[str, dict[str, float]]]:
    """Measures of the scenario's marked days; with overrides or mixed meals, the same days from the same states.

    A what-if day is integrated from the shipped run's midnight state SETTLE_DAYS before it (its slow states, beta
    cells included, are those of the shipped course), so it isolates the fast effect of the change. With ``protocol``
    the days are those of the scenario under the UKPDS conventional arm's protocol from its presentation
    (glucosim.calibration.course.diet_therapy_scenario: the run the course targets read after diagnosis), 1 and 6
    years counted from randomisation.
    """
    import glucosim
    from glucosim.calibration.course import diet_therapy_scenario, presentation_day
    from glucosim.simulation.trace import recompute_trace

    first = glucosim.simulate(scenario, progress=False)
    base, tag = glucosim.load_scenario(scenario), ""
    presented = presentation_day(first.daily) if protocol else None
    if presented is not None:
        base, tag = diet_therapy_scenario(base, presented), " diet"
        # the protocol's readings reach 6 years past randomisation, beyond a scenario that ends sooner
        first = glucosim.simulate(base, progress=False)
    days = marked_days(first.daily, presented)
    starts = tuple(max(day - SETTLE_DAYS, 0) for _, day in days)
    result = glucosim.simulate(base, progress=False, state_days=starts)
    meals = meal_times_h(result.loaded)
    variants = [("", None)]
    if overrides:
        variants.append((" what-if", glucosim.load_scenario(base, **overrides)))
    if mixed:
        routine = mixed_meal_routine(result.loaded)
        variants.append((" mixed", glucosim.load_scenario(base, routine=routine, **overrides)))
    rows = []
    for (label, day), start in zip(days, starts):
        for suffix, loaded in variants:
            if loaded is None:
                trace = result.trace(day)
            else:
                trace = recompute_trace(loaded, start, result.midnight_states[start], day, 1e-6)
            measures = day_measures(trace, meals)
            measures["hba1c_daily_table"] = float(result.daily["hba1c_percent"].iloc[day]) if not suffix else np.nan
            measures["day"] = day
            rows.append((f"{scenario[:2]} {label}{tag}{suffix}", measures))
    return rows


def course(scenario: str) -> None:
    """The course quantities (glucosim.calibration.course) as the course targets measure them (the UKPDS conventional
    arm's protocol from the presentation on: diet_therapy_scenario), of the scenario left as it is after diagnosis
    (read from the diagnosis: the measurement before 2026-12-03), and of what-ifs from the presentation on, read as
    the protocol's (from randomisation 3 months later), none with the run-in's energy restriction: the UKPDS diet
    alone, sensitivity held alone (the drift stopped), and scenario 32's mixed meals with sensitivity held (the
    diagnostic that suggested the protocol)."""
    import glucosim
    from glucosim.calibration.course import (
        AFTER_RANDOMISATION_REACH_DAYS,
        UKPDS_RUN_IN_DAYS,
        course_measures,
        course_runs,
        diet_therapy_routine,
        presentation_day,
    )
    from glucosim.physiology.indices import Par

    loaded, daily, after_diagnosis = course_runs(scenario)
    weight = float(loaded.parameters[Par.body_weight])
    columns = {
        "as measured": course_measures(daily, weight, after_diagnosis),
        "as it is": course_measures(daily, weight),
    }
    presented = presentation_day(daily)
    if presented is None:
        raise SystemExit(f"{scenario}: never reaches the presentation HbA1c; no what-ifs")
    mixed = mixed_meal_routine(loaded)
    held = {"drift": {"whole_body_per_year": 0.0}}
    variants = {
        "UKPDS diet": diet_therapy_routine(loaded),
        "held": held,
        "s32 meals, held": {"meals": mixed["meals"], "other_food_kcal_per_day": mixed["other_food_kcal_per_day"]}
        | held,
    }
    reach = presented + UKPDS_RUN_IN_DAYS + AFTER_RANDOMISATION_REACH_DAYS  # the 6-year reading
    for label, change in variants.items():
        changes = [*loaded.scenario.model_dump()["changes"], {"from_day": presented, "label": label} | change]
        changed = glucosim.load_scenario(scenario, changes=changes, duration_days=max(reach, len(daily)))
        columns[label] = course_measures(daily, weight, glucosim.simulate(changed, progress=False).daily)
    header = f"{'course quantity (what-ifs from the presentation on)':56s}"
    print(header + "".join(f"{label:>16s}" for label in columns))
    for name in columns["as measured"]:
        print(f"{name:56s}" + "".join(f"{values[name]:16.2f}" for values in columns.values()))


ROWS = (
    ("day", "day of the run", "{:.0f}"),
    ("hba1c_daily_table", "HbA1c (daily table, %)", "{:.2f}"),
    ("fasting", "fasting glucose (before breakfast)", "{:.0f}"),
    ("night_0_6h", "night mean 00-06 h", "{:.0f}"),
    ("mean_24h", "24-h mean glucose", "{:.0f}"),
    ("excess_over_fasting", "24-h mean - fasting", "{:.0f}"),
    ("postprandial_share_pct", "postprandial share of daytime excess (%)", "{:.0f}"),
    ("breakfast_3h_over_fasting", "3 h after breakfast - fasting", "{:+.0f}"),
    ("lunch_2h_over_fasting", "2 h after lunch - fasting", "{:+.0f}"),
    ("lunch_5h_over_fasting", "5 h after lunch - fasting", "{:+.0f}"),
    ("min", "day's minimum", "{:.0f}"),
    ("max", "day's maximum", "{:.0f}"),
    ("meal1_premeal", "breakfast: before", "{:.0f}"),
    ("meal1_rise", "breakfast: rise to peak", "{:.0f}"),
    ("meal1_peak_min", "breakfast: minutes to peak", "{:.0f}"),
    ("meal1_2h", "breakfast: 2 h", "{:.0f}"),
    ("meal2_premeal", "lunch: before", "{:.0f}"),
    ("meal2_rise", "lunch: rise to peak", "{:.0f}"),
    ("meal2_peak_min", "lunch: minutes to peak", "{:.0f}"),
    ("meal3_premeal", "dinner: before", "{:.0f}"),
    ("meal3_rise", "dinner: rise to peak", "{:.0f}"),
    ("meal3_peak_min", "dinner: minutes to peak", "{:.0f}"),
    ("egp_basal", "EGP before breakfast (mg/kg/min)", "{:.2f}"),
    ("egp_0_1h", "EGP 0-1 h", "{:.2f}"),
    ("egp_1_4h", "EGP 1-4 h", "{:.2f}"),
    ("egp_nadir", "EGP nadir 0-4 h", "{:.2f}"),
    ("egp_suppression_0_4h_pct", "EGP suppression 0-4 h (%)", "{:.0f}"),
    ("gut_ra_0_4h", "meal Ra 0-4 h (mg/kg/min)", "{:.2f}"),
    ("uptake_basal", "total uptake before breakfast", "{:.2f}"),
    ("uptake_0_4h", "total uptake 0-4 h (incl. liver, kidney excl.)", "{:.2f}"),
    ("muscle_0_4h", "muscle uptake 0-4 h", "{:.2f}"),
    ("liver_uptake_0_4h", "liver uptake 0-4 h", "{:.2f}"),
    ("renal_0_4h", "renal excretion 0-4 h", "{:.3f}"),
    ("secretion_basal", "secretion before breakfast (pmol/kg/min)", "{:.2f}"),
    ("secretion_0_4h", "secretion 0-4 h", "{:.2f}"),
    ("secretion_peak", "secretion peak 0-4 h", "{:.2f}"),
    ("insulin_basal_uU_ml", "insulin before breakfast (uU/ml)", "{:.1f}"),
    ("insulin_peak_uU_ml", "insulin peak 0-4 h (uU/ml)", "{:.1f}"),
)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenario", action="append", help="scenarios (default: 03 and 01)")
    parser.add_argument("--set", action="append", default=[], help="NAME=VALUE what-if (parameter table name)")
    parser.add_argument("--mixed", action="store_true", help="also the same days with scenario 32's mixed meals")
    parser.add_argument("--protocol", action="store_true", help="the days of the course as measured: diet therapy")
    parser.add_argument("--course", action="store_true", help="the course quantities, as measured and what-ifs")
    args = parser.parse_args(argv)
    overrides = {}
    for item in args.set:
        name, _, value = item.partition("=")
        overrides[name] = float(value)
    scenarios = args.scenario or ["03_insulin_resistance_low_reserve", "01_healthy_baseline"]
    if args.course:
        course(scenarios[0])
        return 0
    if args.protocol and args.mixed:
        parser.error("--protocol and --mixed: give one (the protocol's diet replaces the meals from the diagnosis on)")
    columns: list[tuple[str, dict[str, float]]] = []
    for scenario in scenarios:
        columns += run(scenario, overrides, args.mixed, args.protocol)
    print("glucosim" + (f"; what-if: {overrides}" if overrides else ""))
    print(f"{'':48s}" + "".join(f"{label:>20s}" for label, _ in columns))
    for key, text, fmt in ROWS:
        cells = "".join(f"{fmt.format(m[key]) if key in m else '-':>20s}" for _, m in columns)
        print(f"{text:48s}{cells}")
    print("\npublished (what was read is named in each row)")
    for what, value, source in PUBLISHED:
        print(f"- {what}: {value}\n    [{source}]")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
