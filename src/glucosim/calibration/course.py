"""The course of beta-cell decline: published course statistics and glucosim's values on a shipped scenario.

The slow beta-cell parameters (glucotoxicity, its rates and floors: physiology/beta_cells.py) are set
against the course of type 2 diabetes in one subject: scenario 03 (sensitivity falling 3.5 % a year, low
reserve). ``validation/course/*.toml`` holds the published numbers, each of kind "fit" (the parameters were
chosen, by the grid of ``grid_costs`` and ``best_point``, to bring these near) or "validation" (held out,
reported only). The diagnosis is the first day fasting glucose reaches 126 mg/dl, as in the cohorts
(``diagnosis_day``). The
quantities before it are read off the scenario as it is; those after it (UKPDS 45's changes over the 3 months of
diet before randomisation, UKPDS 16's fasting glucose and HbA1c 1 and 6 years after randomisation, the urinary
glucose a year after) off a second run of the same scenario in which the subject enters UKPDS as its patients did:
at presentation (``presentation_day``: HbA1c at UKPDS 49's median, 9.1 %, after the diagnosis), 3 months of
energy-restricted diet, then diet therapy holding the weight lost, with sensitivity held (``diet_therapy_scenario``,
which cites what was read). One fit target is
measured on a run of its own: the same subject held at ~110 mg/dl without a drift of sensitivity
(``stage_two_run``), whose fasting glucose should stay put (Weir & Bonner-Weir 2004's stable stage 2).
Two held-out quantities check the kidney (physiology/kidney.py): the daily urinary glucose a year after
randomisation, and the kidney's excretion at a clamped glucose (measured on the scenario's subject, no simulation
needed).

Run ``python -m glucosim.calibration.course`` to print the table (scenario 03's 20 years, its diet-therapy run from
the presentation to 6 years after randomisation, and a 3-year run: ~3 s of CPU once the model is compiled, ~35 s the
first time), or ``python -m glucosim.calibration.course --grid`` to rerun the grid that chose the shipped values (~8 s
of CPU, measured 2026-12-06); ``--grid --wide`` evaluates the wider grid behind the parameters' sources and prints its
objectives as a table (~25 s).
"""

from __future__ import annotations

import itertools
import math
import sys
from dataclasses import dataclass
from pathlib import Path

from glucosim._toml import load_toml
from glucosim.calibration.targets import PublishedValue
from glucosim.errors import CalibrationError, GlucosimError
from glucosim.physiology.units import DAYS_PER_YEAR, MG_DL_PER_MMOL_L, MINUTES_PER_DAY, mg_per_kg_to_grams

COURSE_DIR = Path(__file__).resolve().parents[1] / "validation" / "data" / "course"
"""validation/course in a clone (validation/data links to the repository's validation folder)."""
SMOOTH_DAYS = 30
"""Fasting glucose is read as a 30-day mean (a clinic value), not one morning."""
UKPDS_PRESENTATION_HBA1C_PERCENT = 9.1
"""HbA1c at which the subject enters UKPDS: the median of its newly diagnosed patients at presentation (UKPDS 49,
Turner RC et al. JAMA 1999 281:2005, abstract read: median fasting plasma glucose 11.5 (interquartile range 9.0-14.4)
mmol/l, HbA1c 9.1 %). The HbA1c and not the fasting glucose is the criterion, chosen before the protocol was first run
because the other cannot be met: scenario 03's subject never reaches a fasting glucose of 207 mg/dl untreated (~180 at
year 22; its diabetes is more postprandial than people's, the HbA1c targets' remarks), and its HbA1c is what its whole
day gives. The diagnosis of the other course quantities stays the first fasting glucose of 126 mg/dl (Whitehall II's
screen: ``diagnosis_day``); UKPDS's patients presented later, ~11 months later in this subject (2026-12-06)."""
UKPDS_RUN_IN_DAYS = 91
"""Days of energy-restricted diet between presentation and randomisation: UKPDS randomised its patients after 3 months
of diet, and counted its years from randomisation (UKPDS 16, Diabetes 1995 44:1249; UKPDS 45, Diabet Med 2000 17:518,
abstract read: 3 months of diet lowered weight by 4.5 kg and plasma glucose by 3 mmol/l, from 11, on average)."""
UKPDS_RUN_IN_WEIGHT_LOSS_KG = 4.5
"""The mean weight lost in those 3 months (UKPDS 45, above): what ``UKPDS_RUN_IN_INTAKE_FRACTION`` is sized to."""
UKPDS_RUN_IN_INTAKE_FRACTION = 0.807
"""The energy restriction of the 3 months: every food of the diet (each meal's carbohydrate, fat and protein and the
food besides the meals) eaten at this fraction of the amount that keeps the energy of the day before presentation.
Sized on 2026-12-06 so that scenario 03's subject is 4.5 kg lighter at randomisation (``UKPDS_RUN_IN_WEIGHT_LOSS_KG``:
-4.50 kg; 478 kcal/day less than its 2477): UKPDS gives the weight lost, not the prescription. A restricted diet is
less food, so the meals shrink with it: the first form of this protocol (the same day, never landed) kept the meals
and took the restriction as an energy deficit apart from the food (the scenario's ``energy_surplus_kcal_per_day``),
which changed weight alone: over the run-in fasting glucose -1.97 mg/dl and HbA1c -0.98 points, against -3.5 and
-1.19 with the diet scaled (both read on the day of randomisation; on the run-in's last day, as the course reads
them, the scaled diet gives -3.39 and -1.18). tests/test_course.py checks the loss on the shipped subject."""
UKPDS_WEIGHT_HOLD_INTAKE_FRACTION = 0.952
"""The diet after randomisation, the same way: the fraction of the energy before presentation that holds the weight lost
in the run-in (a smaller body spends less): sized with the run-in so that scenario 03's subject weighs at 1 year what
it weighed at randomisation (-4.55 against -4.50 kg; 120 kcal/day less than before presentation; its weight then
drifts down with its glucosuria, -5.2 kg at 6 years). UKPDS 45 gives the 3 months only; the Belfast Diet Study's
weight stayed constant on diet alone (``diet_therapy_scenario``), so the protocol holds it rather than let it come
back."""
AFTER_RANDOMISATION_REACH_DAYS = math.ceil(6 * DAYS_PER_YEAR) + 1
"""How many days past randomisation the diet-therapy run must reach: UKPDS 16's last reading, 6 years on (the 30-day
window of its fasting glucose ends on the reading's day)."""
PRESENTATION_SEARCH_YEARS = 10
"""How far past its own end the untreated scenario is run when it has not reached the presentation HbA1c by then
(``course_runs``): a course with a late diagnosis still presents."""
CLAMP_GLUCOSE_11_MMOL_L_MG_DL = 11.0 * MG_DL_PER_MMOL_L
"""11 mmol/l in mg/dl (glucose 180.16 g/mol): the clamp level of Wolf et al. 2009's between-subject comparison."""
GRID = {
    "glucotoxicity_threshold": (141.0, 142.0, 143.0),
    "beta_mass_workload_rate": (0.00005, 0.0001, 0.00015),
}
"""The grid that chose the shipped values (the other slow parameters held at their table values: Hill 6, function rate
0.005/day, mass glucotoxic rate 0.0005/day, function cap sharpness 8, function recovery rate 0.053/day: see
models/parameters.toml). Kept on 142 mg/dl on 2026-12-07 (twenty-eighth session), when the second phase gained its
slow part (secretion_slow_share): glucosim calibrate and the grid, iterated to a fixed point, chose (142, 0.00005),
objective 1.02 (1.06 at 143, 1.36 at 141, 4.32 at 140, 24.1 at 144, 100 at 139; 1.50 at 142 and 0.0001).
Centred on 142 mg/dl since 2026-12-07 (twenty-fifth session), when the function the
glucotoxic load impairs began to recover as the load lifts (beta_function_recovery_rate, the state
beta_function_worn_rel): glucosim calibrate and the wide grid, iterated to a fixed point, chose (142, 0.00005),
objective 1.51 (1.54 at 143, 2.13 at 141, 16.1 at 140, 26.1 at 144). Centred on 143 mg/dl from that morning
(twenty-fourth session), when GLP-1's share of the carbohydrate incretin began to act below
GIP's glucose gate (carbohydrate_incretin_glp1_share): glucosim calibrate and this grid, iterated to a fixed point,
chose (143, 0.00005), objective 1.96 (1.98 at 142, 2.13 at 144; 2.59 at 141 on the wide grid). Centred on 142 mg/dl
from 2026-12-06 (evening). When the diabetic liver's glycogen balance was fitted (2026-12-06, twentieth session:
excess_output_glycogenolysis_share 0.92, hepatic_glycogen_synthesis_exponent 0.25,
validation/targets/type2_liver_glycogen.toml) the wide grid, rerun, chose (142, 0.00005) again, objective 1.87 (1.95
at 141, 2.90 at 140, 44 at 139; 2.01 at 143, 2.25 at 144). It moved there from 141 when the UKPDS readings began to
follow UKPDS's entry (``diet_therapy_scenario`` from ``presentation_day``): the wide grid, rerun, chose (142,
0.00005), objective 1.99, at its lowest workload rate again. The objective's profile was then a cliff on the low
side: 2.07 at 141, 3.00 at 140, 43 at 139 and ~190-270 from 138 down, where the stage-2 subject no longer holds its
glucose; it rose gently on the high side (2.12 at 143, 2.35 at 144). Centred on 141 from the morning of that day,
when the second phase's dose-response became the intravenous one with a carbohydrate incretin (and the adapted start
at the cap a fixed point), which chose (141, 0.00005), objective 2.21, on the readings from the diagnosis. Until
2026-12-06 it was centred on 135 (chose (135, 0.00005), objective 2.31; 2.07 after the kidney's splay was fitted);
its lower workload edge was a choice, not a fit (the objective kept falling a little below it)."""
WIDE_GRID = {
    "glucotoxicity_threshold": (134.0, 136.0, 138.0, 139.0, 140.0, 141.0, 142.0, 143.0, 144.0),
    "beta_mass_workload_rate": (0.00005, 0.0001, 0.00015, 0.0002),
}
"""The wider grid behind the parameters' sources (``--grid --wide``, 36 evaluations, ~25 s): the objective's profile
around the shipped point, which shows the ridge and where the course stops on diet or stage 2 gives way."""


@dataclass(frozen=True)
class CourseTarget(PublishedValue):
    """One published course statistic and the glucosim quantity compared with it."""

    name: str
    kind: str
    label: str
    unit: str
    source: str
    scenario: str
    measure: str
    cause: str = ""
    """Why glucosim disagrees, in one sentence (optional; the validation page's summary table shows it)."""
    group: str = ""


def load_course_targets(directory: Path = COURSE_DIR) -> list[CourseTarget]:
    """Every course target of ``directory``'s files, in file order."""
    targets = []
    for path in sorted(Path(directory).glob("*.toml")):
        for index, entry in enumerate(load_toml(path).get("targets", [])):
            try:
                target = CourseTarget(**entry, group=path.stem)
            except TypeError as exc:
                raise CalibrationError(f"{path}: targets[{index}]: {exc}") from exc
            if target.kind not in ("fit", "validation") or not target.low <= target.published <= target.high:
                raise CalibrationError(f"{path}: targets[{index}] ({target.name}): bad kind or published outside range")
            targets.append(target)
    return targets


def diagnosis_day(daily) -> int | None:
    """The first day of ``daily`` (a run's daily table) whose fasting glucose (daily, not smoothed) reaches the ADA's
    126 mg/dl, as in the cohorts; None if none does."""
    from glucosim.simulation.markers import FASTING_GLUCOSE_DIABETES_MG_DL, first_crossing_day

    return first_crossing_day(daily["fasting_glucose_mg_dl"].to_numpy(), FASTING_GLUCOSE_DIABETES_MG_DL)


UKPDS_DIET_ENERGY_SHARES = {"carbs_g": 0.50, "fat_g": 0.30, "protein_g": 0.20}
"""Shares of a meal's energy in carbohydrate, fat and protein of the diet UKPDS advised every patient: the British
Diabetic Association's recommendations of 50 % carbohydrate, 30 % fat and 20 % protein, energy restricted for the
overweight (UKPDS 7, Metabolism 1990 39:905; read in a secondary copy: the Academy of Nutrition and Dietetics'
evidence worksheet of the paper, whose sentence on the energy restriction is cut off there)."""


def diet_therapy_routine(loaded, from_day: int = 0) -> dict:
    """The routine of diet therapy for ``loaded``'s subject from ``from_day`` on: the UKPDS diet at the same energy.

    The diet is built on the routine in force on ``from_day`` (the starting routine with the scenario's ``changes``
    up to that day, as scenario/compile.py resolves them). Each of its meals keeps its time and its carbohydrate and
    gains the fat and protein that make its energy 50 % carbohydrate, 30 % fat and 20 % protein
    (``UKPDS_DIET_ENERGY_SHARES``, at the Atwater factors of the parameter table), the carbohydrate counted after the
    routine's ``carbs_scale`` (which stays in force: the meals keep their unscaled carbohydrate, as the scenario
    gives it); the rest of the diet (``other_food_kcal_per_day``) is cut by their energy, so the day's intake
    (``ScenarioProgram.food_energy_kcal_day``), and with it weight, stays what it was. For scenario 03 (60/80/80 g of
    carbohydrate) that is 59 g of fat and 88 g of protein a day, near scenario 32's ordinary mixed meals (70 and
    85 g) and near what UKPDS patients reported eating 3-6 years after diagnosis (43 % carbohydrate, 37 % fat, 21 %
    protein: UKPDS's 3-day food diaries of 132 patients, Diabet Med, abstract read at
    rdm.ox.ac.uk/publications/14535). The energy restriction UKPDS advised the overweight is not here:
    ``diet_therapy_scenario`` scales this diet down for the 3 months before randomisation and after.

    Raises CalibrationError when the routine on ``from_day`` has no meals, or when the added fat and protein carry
    more energy than the rest of the diet provides (the same energy cannot be kept).
    """
    from glucosim.physiology.body import atwater_kcal_per_g, meal_energy_kcal
    from glucosim.scenario.compile import ScenarioProgram

    p = loaded.parameters
    program = ScenarioProgram(loaded)
    routine = program.routine_on(int(from_day))
    where = f"{loaded.source} (scenario {loaded.scenario.name!r}): diet therapy from day {int(from_day)}"
    if not routine.meals:
        raise CalibrationError(f"{where}: the routine in force has no meals; the UKPDS diet is built on its meals")
    kcal_per_g = atwater_kcal_per_g(p)
    meals = []
    for meal in routine.meals:
        meal_kcal = meal.carbs_g * routine.carbs_scale * kcal_per_g["carbs_g"] / UKPDS_DIET_ENERGY_SHARES["carbs_g"]
        added = {name: meal_kcal * UKPDS_DIET_ENERGY_SHARES[name] / kcal_per_g[name] for name in ("fat_g", "protein_g")}
        meals.append(meal.model_dump(exclude_none=True) | added)
    day_kcal = program.food_energy_kcal_day(routine)
    meals_kcal = sum(meal_energy_kcal(m["carbs_g"] * routine.carbs_scale, m["fat_g"], m["protein_g"], p) for m in meals)
    other_kcal = day_kcal - meals_kcal
    if other_kcal < 0.0:
        raise CalibrationError(
            f"{where}: the UKPDS diet's meals carry {meals_kcal:.0f} kcal/day but the day's food is "
            f"{day_kcal:.0f} kcal/day: the fat and protein added need {-other_kcal:.0f} kcal/day more energy than the "
            "rest of the diet (other_food_kcal_per_day) provides, so the diet cannot keep the same energy"
        )
    return {"meals": meals, "other_food_kcal_per_day": other_kcal}


def diet_eaten_at(diet: dict, fraction: float) -> dict:
    """``diet`` (``diet_therapy_routine``'s meals and other food) eaten at ``fraction`` of its energy: every food
    scaled, the meals' carbohydrate, fat and protein alike."""
    meals = [meal | {name: meal[name] * fraction for name in UKPDS_DIET_ENERGY_SHARES} for meal in diet["meals"]]
    return {"meals": meals, "other_food_kcal_per_day": diet["other_food_kcal_per_day"] * fraction}


def diet_therapy_scenario(loaded, from_day: int):
    """``loaded`` (a LoadedScenario) with the UKPDS conventional arm's protocol from ``from_day`` (the presentation) on.

    UKPDS enrolled newly diagnosed patients at presentation, put them on 3 months of energy-restricted diet, and
    randomised them then; its conventional arm stayed on diet therapy ("conventional therapy, primarily with diet":
    UKPDS 16, Diabetes 1995 44:1249, abstract read, which gives the medians at 1 and 6 years from randomisation that
    validation/course/beta_cell_decline.toml compares). The protocol here, from the day of presentation
    (``presentation_day``):

    - diet therapy: the diet UKPDS advised, 50 % carbohydrate, 30 % fat, 20 % protein (UKPDS 7, Metabolism 1990
      39:905, read in a secondary copy), on the meals of the routine in force that day (``diet_therapy_routine``);
    - the run-in: for ``UKPDS_RUN_IN_DAYS`` (3 months) that diet eaten at ``UKPDS_RUN_IN_INTAKE_FRACTION`` of the
      day before's energy (every food scaled: meals and the rest), which takes the subject down the 4.5 kg UKPDS 45
      reports (Diabet Med 2000 17:518, abstract read); then, from randomisation, at
      ``UKPDS_WEIGHT_HOLD_INTAKE_FRACTION``, which holds the new weight;
    - sensitivity held: the scenario's drifts of sensitivity stop (the model's other influences on sensitivity go on:
      weight, and mean insulin, which falls with the beta cells). In the Belfast Diet Study (Levy J et al. 1998 Diabet
      Med 15:290-296, "Beta-cell deterioration determines the onset and rate of progression of secondary dietary
      failure in type 2 diabetes mellitus: the 10-year follow-up of the Belfast Diet Study"; abstract read at
      rdm.ox.ac.uk/publications/184794, which shows the journal and pages, not the title or authors), 432 newly
      diagnosed patients on intensive dietary management for 10 years, the fall of HOMA beta-cell function mirrored
      the rise of fasting glucose, "there was no change in mean insulin sensitivity in any of the groups", and mean
      weight stayed constant on diet alone. It is a Belfast cohort, not UKPDS's; UKPDS 16's own HOMA analysis of
      sensitivity was not read (the abstract excerpt read stops before it). A drift of the beta cells' reserve
      (routine.drift.beta_reserve_per_year) goes on: UKPDS 16 found beta-cell function falling on every therapy.

    Everything else (subject, parameters, clinic visits) is the scenario's, so the run is the scenario's up to
    ``from_day``; so is its duration, lengthened where needed to reach the last reading, 6 years after randomisation
    (``AFTER_RANDOMISATION_REACH_DAYS``). A lengthened run's solver steps fall elsewhere, which moves the days before
    the presentation by the solver's tolerance (scenario 03's fasting glucose by up to 0.022 mg/dl, 2026-12-05).

    History. Until 2026-12-06 the protocol started at the diagnosis (the first fasting glucose of 126 mg/dl), at the
    same energy throughout, and counted the years from that day. It was adopted after a diagnostic
    (tools/postprandial_day.py --course: scenario 32's mixed meals with the drift stopped) had brought all four UKPDS
    quantities inside their ranges on the model of 2026-12-02; on the model of 2026-12-03 it brought HbA1c from 9.29
    to 7.72 % a year after diagnosis and from 10.8 to 9.47 % six years after (validation/course/beta_cell_decline.toml).
    """
    import glucosim
    from glucosim.scenario.compile import ScenarioProgram

    changes = [*loaded.scenario.model_dump(exclude_none=True).get("changes", ())]
    diet = diet_therapy_routine(loaded, from_day)
    run_in = {"from_day": int(from_day), "label": "UKPDS run-in: energy-restricted diet, sensitivity held"}
    reserve_per_year = ScenarioProgram(loaded).routine_on(int(from_day)).drift.beta_reserve_per_year
    run_in |= diet_eaten_at(diet, UKPDS_RUN_IN_INTAKE_FRACTION) | {
        "drift": {"whole_body_per_year": 0.0, "beta_reserve_per_year": reserve_per_year}
    }
    randomisation = int(from_day) + UKPDS_RUN_IN_DAYS
    held = {"from_day": randomisation, "label": "diet therapy (UKPDS conventional arm), the weight held"}
    held |= diet_eaten_at(diet, UKPDS_WEIGHT_HOLD_INTAKE_FRACTION)
    # the UKPDS readings are counted from randomisation: the run reaches the last of them whatever the scenario's length
    reach_days = randomisation + AFTER_RANDOMISATION_REACH_DAYS
    lengthened = {"duration_days": reach_days} if reach_days > loaded.scenario.duration_min / MINUTES_PER_DAY else {}
    return glucosim.load_scenario(
        loaded,
        changes=[*changes, run_in, held],
        name=f"{loaded.scenario.name}, UKPDS diet from presentation",
        **lengthened,
    )


def presentation_day(daily) -> int | None:
    """The first day of ``daily`` (a run's daily table), from the diagnosis on (``diagnosis_day``), whose HbA1c
    reaches UKPDS's median at presentation (``UKPDS_PRESENTATION_HBA1C_PERCENT``); None if none does."""
    import numpy as np

    onset = diagnosis_day(daily)
    if onset is None:
        return None
    reached = np.nonzero(daily["hba1c_percent"].to_numpy()[onset:] >= UKPDS_PRESENTATION_HBA1C_PERCENT)[0]
    return None if len(reached) == 0 else onset + int(reached[0])


AFTER_DIAGNOSIS = (
    "fasting_glucose_change_over_run_in_mg_dl",
    "hba1c_change_over_run_in_points",
    "fasting_glucose_1y_after_diagnosis_mg_dl",
    "fasting_glucose_rise_1_to_6y_after_diagnosis_mg_dl",
    "hba1c_1y_after_diagnosis_percent",
    "hba1c_6y_after_diagnosis_percent",
    "glucosuria_1y_after_diagnosis_g_day",
    "glucosuria_6y_after_diagnosis_g_day",
)
"""The quantities read after the diagnosis: from the run under ``diet_therapy_scenario`` when it is given (counted
from randomisation, 3 months after the presentation), else from the scenario's own run (counted from the diagnosis)."""


def course_measures(daily, body_weight_kg: float = float("nan"), after_diagnosis=None) -> dict[str, float]:
    """Course quantities of one run's daily table (indexed by day); NaN where the run does not reach them.

    ``body_weight_kg`` (the subject's starting weight: the daily table's fluxes are per kg of it) turns the renal
    excretion into grams a day; a table without the renal column gives NaN for it. ``after_diagnosis``: the daily
    table of the same scenario under ``diet_therapy_scenario`` from ``daily``'s presentation day
    (``presentation_day``); the quantities of ``AFTER_DIAGNOSIS`` are read from it, counted from randomisation
    (``UKPDS_RUN_IN_DAYS`` after the presentation), as UKPDS counted its years (NaN if ``daily`` never presents).
    Without it they are read from ``daily`` itself, counted from the diagnosis (the scenario left as it is after the
    diagnosis: the measurement before 2026-12-03, kept for comparison).
    """
    import numpy as np

    from glucosim.simulation.markers import FASTING_GLUCOSE_PREDIABETES_MG_DL, first_crossing_day

    fasting = daily["fasting_glucose_mg_dl"].rolling(SMOOTH_DAYS, min_periods=1).mean().to_numpy()
    raw = daily["fasting_glucose_mg_dl"].to_numpy()
    homa_b = daily["homa_b"].rolling(SMOOTH_DAYS, min_periods=1).mean().to_numpy()

    def at(values, day):
        if math.isnan(day):
            return math.nan
        day = int(round(day))
        return float(values[day]) if 0 <= day < len(values) else float("nan")

    onset = diagnosis_day(daily)
    if onset is None:
        return {name: float("nan") for name in MEASURES}
    start = first_crossing_day(raw, FASTING_GLUCOSE_PREDIABETES_MG_DL)
    assert start is not None  # the diagnosis day itself is past 100 mg/dl
    if after_diagnosis is None:
        after, entry, start_after = daily, onset, onset
    else:
        presented = presentation_day(daily)
        after = after_diagnosis
        entry = math.nan if presented is None else presented
        start_after = entry + UKPDS_RUN_IN_DAYS
    fasting_after = after["fasting_glucose_mg_dl"].rolling(SMOOTH_DAYS, min_periods=1).mean().to_numpy()
    hba1c_after = after["hba1c_percent"].to_numpy()
    if "renal_excretion_mg_kg_day" in after:
        renal_mg_kg_day = after["renal_excretion_mg_kg_day"].rolling(SMOOTH_DAYS, min_periods=1).mean().to_numpy()
        glucosuria_g_day = mg_per_kg_to_grams(renal_mg_kg_day, body_weight_kg)
    else:
        glucosuria_g_day = np.full(len(after), np.nan)
    year = DAYS_PER_YEAR
    peak_b = float(np.nanmax(homa_b[: onset + 1]))
    return {
        "years_fasting_100_to_126": (onset - start) / year,
        "fasting_glucose_3y_before_diagnosis_mg_dl": at(fasting, onset - 3 * year),
        # the run-in: from the presentation (the scenario's own day, before the diet) to the run-in's last day, whose
        # 90-day HbA1c window holds the run-in but its first day, and whose 30-day fasting mean its last month
        "fasting_glucose_change_over_run_in_mg_dl": at(fasting_after, entry + UKPDS_RUN_IN_DAYS - 1)
        - at(fasting, entry),
        "hba1c_change_over_run_in_points": at(hba1c_after, entry + UKPDS_RUN_IN_DAYS - 1)
        - at(daily["hba1c_percent"].to_numpy(), entry),
        "fasting_glucose_1y_after_diagnosis_mg_dl": at(fasting_after, start_after + year),
        "fasting_glucose_rise_1_to_6y_after_diagnosis_mg_dl": at(fasting_after, start_after + 6 * year)
        - at(fasting_after, start_after + year),
        "hba1c_1y_after_diagnosis_percent": at(hba1c_after, start_after + year),
        "hba1c_6y_after_diagnosis_percent": at(hba1c_after, start_after + 6 * year),
        "homa_b_at_diagnosis_over_peak": at(homa_b, onset) / peak_b,
        "glucosuria_1y_after_diagnosis_g_day": at(glucosuria_g_day, start_after + year),
        "glucosuria_6y_after_diagnosis_g_day": at(glucosuria_g_day, start_after + 6 * year),
        "diagnosis_year": onset / year,
    }


def course_runs(scenario: str, **parameters: float):
    """(loaded scenario, its daily table, the daily table under ``diet_therapy_scenario`` from its presentation or
    None).

    The two runs every course measurement of ``scenario`` reads (``course_measures``), with parameter overrides. A
    scenario not yet at UKPDS's presentation HbA1c when it ends (diagnosed or not) is run again
    ``PRESENTATION_SEARCH_YEARS`` longer (the scenario's length is a teaching choice, and the grid must not take a late
    course for an infeasible one); the returned loaded scenario and table are then the lengthened run's. The
    presentation is read on the untreated run: its HbA1c row includes the day's own glucose, and the diet begins that
    day (a one-day look-ahead of the criterion, negligible in a 90-day mean; on the protocol run the same row falls
    just short of 9.1 %, so ``presentation_day`` of the protocol run is not the presentation).
    """
    import glucosim

    loaded = glucosim.load_scenario(scenario, **parameters)
    daily = glucosim.simulate(loaded, progress=False).daily
    presented = presentation_day(daily)
    if presented is None:
        longer_days = len(daily) + round(PRESENTATION_SEARCH_YEARS * DAYS_PER_YEAR)
        loaded = glucosim.load_scenario(loaded, duration_days=longer_days)
        daily = glucosim.simulate(loaded, progress=False).daily
        presented = presentation_day(daily)
    if presented is None:
        return loaded, daily, None
    return loaded, daily, glucosim.simulate(diet_therapy_scenario(loaded, presented), progress=False).daily


STAGE_TWO_SENSITIVITY = 0.34
"""Whole-body sensitivity at which scenario 3's subject with a reserve of 1.4 (``STAGE_TWO_RESERVE``) and the DPP's
baseline weight has a fasting glucose of ~110 mg/dl without a drift: the upper half of Weir & Bonner-Weir's stage 2.
0.34 since the second phase's carbohydrate incretin (2026-12-06: start 109.7 mg/dl; 0.30 gives 113.6); 0.26 before
it."""
STAGE_TWO_RESERVE = 1.4
"""beta_function_max of the stage-2 subject: a low reserve, a fixed choice of the course fit. It was near the fitted
DPP cohort's median when chosen (1.34 on 2026-12-03, docs/population.md); the cohort's median has since moved (2.31
in models/cohorts/prediabetic.toml, 2026-12-06) and the stage-2 target was kept on this subject, held at ~110 mg/dl by
``STAGE_TWO_SENSITIVITY``, not re-derived from the cohort."""
STAGE_TWO_WEIGHT_KG = 93.5
"""The DPP's mean baseline weight (Knowler 2002)."""
STAGE_TWO_YEARS = 3


def stage_two_run(scenario: str, **parameters: float):
    """Daily table of ``scenario``'s subject held at ~110 mg/dl fasting without a drift (of sensitivity, or of the
    beta cells' reserve) for 3 years.

    Weir & Bonner-Weir 2004 (Diabetes 53 Suppl 3:S16): fasting glucose 5.0-6.5 mmol/l is a stable stage of beta-cell
    adaptation; Whitehall II's non-converters followed flat linear trends (Tabak 2009 Lancet 373:2215).
    """
    import tomllib

    import glucosim

    data = tomllib.loads(glucosim.load_scenario(scenario).text)
    data["duration_years"] = STAGE_TWO_YEARS
    data["routine"] = dict(data["routine"])
    data["routine"]["drift"] = {}  # every drift stopped: stage 2 is stable without a driver
    data.pop("clinic", None)
    overrides = {
        "insulin_sensitivity_whole_body": STAGE_TWO_SENSITIVITY,
        "beta_function_max": STAGE_TWO_RESERVE,
        "body_weight": STAGE_TWO_WEIGHT_KG,
    }
    return glucosim.simulate(data, progress=False, resolution="envelope", **(parameters | overrides)).daily


def stage_two_measures(daily) -> dict[str, float]:
    """Start (day 29) and change per year of the 30-day mean fasting glucose of ``stage_two_run``'s table."""
    fasting = daily["fasting_glucose_mg_dl"].rolling(SMOOTH_DAYS, min_periods=1).mean().to_numpy()
    start, end = float(fasting[SMOOTH_DAYS - 1]), float(fasting[-1])
    years = (len(fasting) - SMOOTH_DAYS) / DAYS_PER_YEAR
    return {"stage_two_start_mg_dl": start, "stage_two_fasting_change_mg_dl_per_year": (end - start) / years}


def kidney_measures(parameters) -> dict[str, float]:
    """Quantities of the subject's kidney alone (physiology/kidney.py) at the kernel parameter vector ``parameters``."""
    from glucosim.physiology._jit import as_python
    from glucosim.physiology.kidney import renal_excretion_mg_min

    excretion = as_python(renal_excretion_mg_min)
    return {"renal_excretion_at_11_mmol_l_mg_min": float(excretion(CLAMP_GLUCOSE_11_MMOL_L_MG_DL, parameters))}


MEASURES = (
    "years_fasting_100_to_126",
    "fasting_glucose_3y_before_diagnosis_mg_dl",
    "fasting_glucose_change_over_run_in_mg_dl",
    "hba1c_change_over_run_in_points",
    "fasting_glucose_1y_after_diagnosis_mg_dl",
    "fasting_glucose_rise_1_to_6y_after_diagnosis_mg_dl",
    "hba1c_1y_after_diagnosis_percent",
    "hba1c_6y_after_diagnosis_percent",
    "homa_b_at_diagnosis_over_peak",
    "glucosuria_1y_after_diagnosis_g_day",
    "glucosuria_6y_after_diagnosis_g_day",
    "renal_excretion_at_11_mmol_l_mg_min",  # the kidney alone: kidney_measures
    "stage_two_fasting_change_mg_dl_per_year",  # a run of its own: stage_two_measures
    "diagnosis_year",
)


def evaluate_course(targets: list[CourseTarget], **parameters: float) -> dict[str, dict[str, float]]:
    """scenario -> {measure: value} for every scenario the targets name, with parameter overrides."""
    from glucosim.physiology.indices import Par

    values: dict[str, dict[str, float]] = {}
    for scenario in sorted({target.scenario for target in targets}):
        loaded, daily, after_diagnosis = course_runs(scenario, **parameters)
        vector = loaded.parameters
        values[scenario] = course_measures(daily, float(vector[Par.body_weight]), after_diagnosis)
        if after_diagnosis is None:  # never presents: nothing after diagnosis is read (course_measures without a
            # protocol table would read the untreated run from the diagnosis, the measurement before 2026-12-03)
            values[scenario] |= dict.fromkeys(AFTER_DIAGNOSIS, math.nan)
        values[scenario] |= kidney_measures(vector)
        if any(target.measure.startswith("stage_two_") for target in targets if target.scenario == scenario):
            values[scenario] |= stage_two_measures(stage_two_run(scenario, **parameters))
    return values


def shipped_course() -> list[tuple[CourseTarget, float]]:
    """(target, glucosim value at the table's parameters) for every course target (docs/validation.md)."""
    targets = load_course_targets()
    values = evaluate_course(targets)
    return [(target, values[target.scenario][target.measure]) for target in targets]


def objective(targets: list[CourseTarget], values: dict[str, dict[str, float]]) -> float:
    """Sum of squared residuals (model - published) / spread over the fit targets (inf where one is missing)."""
    import math

    total = 0.0
    for target in targets:
        if target.kind != "fit":
            continue
        value = values[target.scenario][target.measure]
        if math.isnan(value):
            return math.inf
        total += ((value - target.published) / target.spread) ** 2
    return total


def _print_point(parameters: dict[str, float], cost: float, values: dict[str, dict[str, float]]) -> None:
    print(f"{parameters}: objective {cost:.2f}", flush=True)


def grid_costs(
    targets: list[CourseTarget], grid: dict[str, tuple[float, ...]], log=_print_point, **overrides: float
) -> dict[tuple[float, ...], float]:
    """The objective at every point of ``grid``, keyed by its values in the grid's order; ``overrides`` (other
    parameters, e.g. the kidney's in tools/kidney_course.py) hold at every point. ``log(parameters, objective,
    values)`` is called as each point is done."""
    costs: dict[tuple[float, ...], float] = {}
    for point in itertools.product(*grid.values()):
        parameters = dict(zip(grid, point, strict=True))
        values = evaluate_course(targets, **(overrides | parameters))
        costs[point] = objective(targets, values)
        log(parameters, costs[point], values)
    return costs


def best_point(
    costs: dict[tuple[float, ...], float], grid: dict[str, tuple[float, ...]]
) -> tuple[dict[str, float], float]:
    """The lowest objective of ``grid_costs``'s result and its point (``({}, inf)`` when every point is infeasible)."""
    best: tuple[dict[str, float], float] = ({}, float("inf"))
    for point, cost in costs.items():  # the grid's order: the first of equal objectives wins
        if cost < best[1]:
            best = (dict(zip(grid, point, strict=True)), cost)
    return best


def profile_lines(costs: dict[tuple[float, ...], float], grid) -> list[str]:
    """A two-parameter grid's objectives as a table: the first parameter down, the second across ('inf': no value)."""
    (row_name, rows), (column_name, columns) = grid.items()
    lines = [f"| {row_name} \\ {column_name} | " + " | ".join(f"{c:g}" for c in columns) + " |"]
    lines.append("|---|" + "---|" * len(columns))
    for r in rows:
        lines.append(f"| {r:g} | " + " | ".join(f"{costs[(r, c)]:.2f}" for c in columns) + " |")
    return lines


def table_lines(targets: list[CourseTarget], values: dict[str, dict[str, float]]) -> list[str]:
    """A markdown table: target, kind, published (range), glucosim, agrees."""
    lines = ["| quantity | kind | published (range) | glucosim | agrees |", "|---|---|---|---|---|"]
    for target in targets:
        value = values[target.scenario][target.measure]
        lines.append(
            f"| {target.label} ({target.unit}) | {target.kind} | {target.published:g} ({target.low:g}-{target.high:g})"
            f" | {value:.3g} | {'yes' if target.agrees(value) else 'no'} |"
        )
    return lines


def main(argv: list[str]) -> int:
    """``python -m glucosim.calibration.course [--grid [--wide] [--write]]``: the course targets against the table,
    or the grid's fit (with ``--wide``, the wider grid's profile as a table).

    Exit status 0; with ``--grid``, 1 when the table does not hold the grid's best point (``--write`` writes it
    there, and the status is then 0) or no point is feasible, 2 on a bad argument or when ``--write`` cannot write
    the table (checked before the grid as well: its folder not writable, a grid parameter without a value line to
    rewrite). There is no cache: the table is one evaluation (~3 s), the grid nine (~8 s), the wide grid 36 (~25 s;
    measured 2026-12-06).
    """
    import argparse

    from glucosim.parameters import load_parameter_table

    parser = argparse.ArgumentParser(
        prog="python -m glucosim.calibration.course",
        allow_abbrev=False,  # --gri was taken for --grid
        description="The course of the decline: scenario 03 against validation/course (Whitehall II, UKPDS 16, "
        "a stable stage 2); the table's values, or with --grid the grid that chose them.",
    )
    parser.add_argument(
        "--grid", action="store_true", help=f"evaluate the grid of {', '.join(GRID)} and check the table holds its best"
    )
    parser.add_argument(
        "--wide",
        action="store_true",
        help="with --grid: the wider grid behind the parameters' sources (36 points), printed as a table",
    )
    parser.add_argument(
        "--write",
        action="store_true",
        help="with --grid: write the grid's best point into models/parameters.toml (after a change to the model: "
        "tools/refit.py runs this with the rest of the refit)",
    )
    args = parser.parse_args(argv)
    if args.wide and not args.grid:
        parser.error("--wide widens --grid: give both")
    if args.write and not args.grid:
        parser.error("--write writes the grid's best point: give --grid as well")
    targets = load_course_targets()
    if args.grid:
        grid = WIDE_GRID if args.wide else GRID
        if args.write:  # now, not after the grid's minutes: a table that cannot take its best point is said first
            from glucosim.calibration.table import check_writable
            from glucosim.physiology.indices import PARAMETER_TABLE_PATH

            try:
                check_writable(grid, PARAMETER_TABLE_PATH)
            except GlucosimError as error:
                print(f"error: {error}", file=sys.stderr)  # it names the table
                return 2
        costs = grid_costs(targets, grid)
        parameters, cost = best_point(costs, grid)
        if args.wide:
            print("\n".join(profile_lines(costs, grid)))
        print(f"best: {parameters} (objective {cost:.2f})")
        if not parameters:
            print("no point of the grid is feasible: the table is left as it is")
            return 1
        edges = [name for name, value in parameters.items() if value in (min(grid[name]), max(grid[name]))]
        if edges:  # the grid's own values are sorted or not: its ends are its least and greatest values
            print(
                f"the best point is on the grid's edge in {', '.join(edges)}: the optimum may lie outside it"
                + ("" if args.wide else " (try --wide)")
            )
        table = load_parameter_table()
        held = {name: float(table[name].value) for name in parameters}
        if held == parameters:
            print("the table holds the grid's best point")
            return 0
        if args.write:
            from glucosim.calibration.table import write_parameter_values
            from glucosim.physiology.indices import PARAMETER_TABLE_PATH

            try:
                write_parameter_values(parameters, PARAMETER_TABLE_PATH)
            except GlucosimError as error:  # checked before the grid, but the table may have changed since
                print(f"error: {error}", file=sys.stderr)  # it names the table (a write error is one too: table.py)
                return 2
            print(f"wrote {parameters} into {PARAMETER_TABLE_PATH} (it held {held})")
            return 0
        print(f"the table holds {held}, not the grid's best: write the best into models/parameters.toml (--write)")
        return 1
    values = evaluate_course(targets)
    print("\n".join(table_lines(targets, values)))
    for scenario, measures in values.items():
        print(f"{scenario}: diagnosis (fasting glucose >= 126 mg/dl) at year {measures['diagnosis_year']:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
