"""The prevention trial's table: incidence per 100 person-years per arm and the relative reduction, against the DPP.

As the Diabetes Prevention Program reported it (Knowler et al. 2002, NEJM
346:393): among the enrolled (here: prediabetic at year 0 in the reference
arm, the patient before any intervention; every arm runs the same patients),
diabetes onsets divided by person-years of follow-up (each patient followed
until onset or the end of the follow-up), per arm; the relative reduction is
1 - (rate in the arm / rate in the reference arm). Exact Poisson confidence
intervals for the rates; for the reduction, the usual interval of the log
rate ratio (sqrt(1/events + 1/events_reference)), which ignores the pairing
of the arms and so is conservative.

Nothing here is fitted: the placebo incidence is a target of the population
fit (validation/targets/population/dpp.toml), the lifestyle reduction is the
validation.

    python -m glucosim.analysis.sweep.dpp results/prediabetes_lifestyle
"""

from __future__ import annotations

import math
import sys
from dataclasses import dataclass

import numpy as np

from glucosim.analysis.sweep.clinic import follow_up_text, has_yearly_ogtt
from glucosim.physiology.units import DAYS_PER_YEAR, PMOL_L_PER_UU_ML, year_start_day
from glucosim.sweep.store import COMPLETED_STATUSES
from glucosim.sweep.visits import YEARLY_EVERY_VISITS, visit_day, visit_days
from glucosim.sweep.worker import yearly_column

FOLLOW_UP_YEARS = 3.0
"""Follow-up of the table: the DPP's ran 1.8-4.6 years (mean 2.8); its 58 % is "over ~3 years"."""
CONFIDENCE = 0.95
ENROLLED_STAGE = "prediabetes"


@dataclass(frozen=True)
class Published:
    """A published number with its 95 % confidence interval and source."""

    value: float
    low: float
    high: float
    source: str


DPP_PLACEBO_INCIDENCE = Published(
    11.0,
    9.8,
    12.3,
    "Knowler 2002 NEJM 346:393 (11.0 per 100 person-years); CI from DPP Research Group 2009 Lancet 374:1677",
)
DPP_LIFESTYLE_INCIDENCE = Published(
    4.8, 4.1, 5.7, "Knowler 2002 NEJM 346:393 (4.8); CI from DPP Research Group 2009 Lancet 374:1677"
)
DPP_LIFESTYLE_REDUCTION = Published(58.0, 48.0, 66.0, "Knowler 2002 NEJM 346:393: 58 % (95 % CI 48-66)")
DPP_TWO_HOUR_SHARE = Published(
    87.0,
    math.nan,
    math.nan,
    "Christophi 2013, J Diabetes Complications 27:150, abstract: 87 % of confirmed cases triggered on the 2-h glucose"
    " (alone or with the fasting glucose; 574 of 772 triggers on the 2-h glucose alone, 97 on both, 101 on fasting"
    " glucose alone)",
)
"""The share of the DPP's confirmed diabetes cases that the yearly OGTT's 2-h glucose triggered (all arms)."""
PUBLISHED = {"control": DPP_PLACEBO_INCIDENCE, "lifestyle": DPP_LIFESTYLE_INCIDENCE}
"""Arm name in the shipped sweep -> the DPP arm it stands for."""


def poisson_interval(events: int, person_years: float, confidence: float = CONFIDENCE) -> tuple[float, float]:
    """Exact (Garwood) interval of a rate per 100 person-years."""
    from scipy.stats import chi2

    if person_years <= 0:
        return (math.nan, math.nan)
    alpha = 1.0 - confidence
    low = chi2.ppf(alpha / 2, 2 * events) / 2 if events > 0 else 0.0
    high = chi2.ppf(1 - alpha / 2, 2 * events + 2) / 2
    return (100.0 * low / person_years, 100.0 * high / person_years)


def closing_visit_day(follow_up_years: float) -> int:
    """The day of the follow-up's closing visit: the clinic's visit days are whole days (``clinic.visit_days``),
    so year 3 is day 1096, 0.0007 years past 3.0; comparing in days keeps an onset seen there."""
    return year_start_day(follow_up_years)


def events_and_person_years(onset_days: np.ndarray, follow_up_years: float) -> tuple[int, float]:
    """Onsets up to the closing visit and the person-years at risk (until onset or the closing visit)."""
    days = np.asarray(onset_days, dtype=float)
    closing = closing_visit_day(follow_up_years)
    event = ~np.isnan(days) & (days <= closing)
    time = np.where(event, days, closing) / DAYS_PER_YEAR
    return int(event.sum()), float(time.sum())


def rate_per_100py(events: int, person_years: float) -> float:
    """Incidence per 100 person-years; NaN without time at risk."""
    return 100.0 * events / person_years if person_years > 0 else math.nan


def relative_reduction(
    events: int, person_years: float, events_ref: int, person_years_ref: float, confidence: float = CONFIDENCE
) -> tuple[float, float, float]:
    """(reduction, low, high) in percent: 100 x (1 - rate ratio), with the log-rate-ratio interval."""
    from scipy.stats import norm

    if events_ref == 0 or person_years <= 0 or person_years_ref <= 0:
        return (math.nan, math.nan, math.nan)
    if events == 0:  # no onset in the arm: a 100 % reduction whose log-scale interval is not defined
        return (100.0, math.nan, math.nan)
    ratio = (events / person_years) / (events_ref / person_years_ref)
    half = norm.ppf(0.5 + confidence / 2) * math.sqrt(1.0 / events + 1.0 / events_ref)
    return (
        100.0 * (1.0 - ratio),
        100.0 * (1.0 - ratio * math.exp(half)),
        100.0 * (1.0 - ratio * math.exp(-half)),
    )


def trial_table(results, reference_arm: str | None = None, follow_up_years: float = FOLLOW_UP_YEARS):
    """One row per arm: enrolled, onsets, person-years, incidence per 100 person-years with its interval,
    relative reduction against the reference arm with its interval, and the DPP's numbers beside them.

    Raises:
        ValueError: the results run shorter than ``follow_up_years``.
    """
    import pandas as pd

    reference_arm = reference_arm or str(results["arm"].iloc[0])
    clinic = "clinic_enrolled" in results.columns
    reference = results[results["arm"] == reference_arm].set_index("sample")
    if clinic:  # the virtual DPP clinic's screening and confirmed diagnoses (analysis.sweep.clinic)
        enrolled = set(reference.index[reference["clinic_enrolled"].astype(bool)])
        onset_column = "clinic_diagnosis_day"
    else:  # the true course: prediabetic at year 0, first day past a diabetes threshold
        enrolled = set(reference.index[reference[yearly_column(0, "stage")] == ENROLLED_STAGE])
        onset_column = "diabetes_onset_day"
    yearly_ogtt = clinic and has_yearly_ogtt(results)
    rows = []
    found = {}
    for arm, group in results.groupby("arm", sort=False):
        ok = group[group["status"].isin(COMPLETED_STATUSES) & group["sample"].isin(enrolled)]
        events, person_years = events_and_person_years(ok[onset_column].to_numpy(float), follow_up_years)
        found[arm] = (events, person_years)
        by_two_hour = math.nan  # without the yearly OGTT HbA1c stood in: the share is not defined
        if yearly_ogtt:  # which confirmed test found each counted onset
            days = ok[onset_column].to_numpy(float)
            counted = ~np.isnan(days) & (days <= closing_visit_day(follow_up_years))
            tests = ok["clinic_diagnosis_test"].astype(object).to_numpy()[counted]
            by_two_hour = sum("two_hour" in str(test) for test in tests)
        rate = rate_per_100py(events, person_years)
        low, high = poisson_interval(events, person_years)
        published = PUBLISHED.get(str(arm))
        rows.append(
            {
                "arm": arm,
                "enrolled": len(ok),
                "not_completed": int(
                    (~group["status"].isin(COMPLETED_STATUSES) & group["sample"].isin(enrolled)).sum()
                ),
                "diabetes_onsets": events,
                "person_years": person_years,
                "incidence_per_100py": rate,
                "incidence_ci_low": low,
                "incidence_ci_high": high,
                "dpp_incidence_per_100py": published.value if published else math.nan,
                "dpp_incidence_ci_low": published.low if published else math.nan,
                "dpp_incidence_ci_high": published.high if published else math.nan,
                "onsets_by_two_hour": by_two_hour,
                **dict(
                    zip(
                        ("weight_hazard_ratio", "weight_hazard_ratio_low", "weight_hazard_ratio_high"),
                        weight_hazard_ratio(ok, follow_up_years)[:3]
                        if clinic and arm != reference_arm  # Hamman's is the programme arm's analysis
                        else (math.nan,) * 3,
                    )
                ),
                **dict(
                    zip(
                        ("activity_goal_reduction", "activity_goal_reduction_low", "activity_goal_reduction_high"),
                        activity_goal_reduction(ok, str(arm), follow_up_years)
                        if clinic and arm != reference_arm
                        else (math.nan,) * 3,
                    )
                ),
                **(_returns_to_normal(ok, follow_up_years) if clinic else {}),
            }
        )
    for row in rows:
        if row["arm"] == reference_arm:
            row.update(relative_reduction_percent=math.nan, reduction_ci_low=math.nan, reduction_ci_high=math.nan)
        else:
            reduction = relative_reduction(*found[row["arm"]], *found[reference_arm])
            row.update(
                relative_reduction_percent=reduction[0], reduction_ci_low=reduction[1], reduction_ci_high=reduction[2]
            )
        row["dpp_reduction_percent"] = DPP_LIFESTYLE_REDUCTION.value if row["arm"] == "lifestyle" else math.nan
    table = pd.DataFrame(rows)
    table.attrs["follow_up_years"] = follow_up_years
    table.attrs["reference_arm"] = reference_arm
    table.attrs["clinic"] = clinic
    table.attrs["screening_ogtt"] = bool(results.attrs.get("screening_ogtt", False)) or (
        clinic and bool(results["clinic_screen_two_hour_glucose_mg_dl"].notna().any())
        if "clinic_screen_two_hour_glucose_mg_dl" in results.columns
        else False
    )
    table.attrs["yearly_ogtt"] = yearly_ogtt
    table.attrs["baseline"] = _baseline(reference, enrolled) if clinic else {}
    table.attrs["weights"] = weight_goal_table(results, enrolled)  # empty unless the sweep kept the daily weight
    return table


BASELINE_COLUMNS = {
    "fasting glucose": ("clinic_screen_fasting_glucose_mg_dl", "mg/dl", 1, 1.0),
    "HbA1c": ("clinic_screen_hba1c_percent", "%", 2, 1.0),
    "2-h glucose": ("clinic_screen_two_hour_glucose_mg_dl", "mg/dl", 1, 1.0),
    "fasting insulin": (yearly_column(0, "fasting_insulin_uU_ml"), "pmol/l", 0, PMOL_L_PER_UU_ML),
}
"""The enrolled's baseline the table reports, label -> (column, unit, digits, factor from the column's unit): the
screening tests, and the fasting insulin of the first week (the sweep's year-0 marker, without a test's
variability). DPP baseline: fasting glucose 106.5 +- 8.3 mg/dl, HbA1c 5.9 +- 0.5 %, 2-h glucose 164.6 +- 17.0
mg/dl, fasting insulin 161 pmol/l (placebo arm): targets of the population fit,
validation/targets/population/dpp.toml."""


def _baseline(reference, enrolled) -> dict[str, tuple[float, float, str, int]]:
    """Mean and SD of the enrolled's baseline (the reference arm's rows: the patient before any arm)."""
    rows = reference[reference.index.isin(enrolled)]
    found = {}
    for label, (column, unit, digits, factor) in BASELINE_COLUMNS.items():
        if column in rows.columns and rows[column].notna().any():
            values = rows[column].to_numpy(float) * factor
            found[label] = (float(np.nanmean(values)), float(np.nanstd(values)), unit, digits)
    return found


RETURN_TO_NORMAL = Published(
    7.5,
    5.0,
    10.0,
    "Tabak et al. 2012 Lancet 379:2279: 5-10 % of people with prediabetes a year return to normoglycaemia "
    "(the population fit's target, validation/targets/population/dpp.toml)",
)
LIFESTYLE_RETURN_TO_NORMAL_HAZARD_RATIO = Published(
    2.05,
    math.nan,
    math.nan,
    "Perreault et al. 2009 Diabetes Care 32:1583 (abstract): over the DPP's 3 years, the lifestyle intervention "
    "and weight loss had significant and independent effects on regressing to normal glucose regulation (hazard "
    "ratios 2.05 and 1.34, P < 0.01, a Cox model with baseline glucose, age and insulin secretion; CIs not in the "
    "abstract)",
)
"""Context for the lifestyle arm's return to normal, not a like-for-like check: the DPP's 2.05 is the arm's effect
ADJUSTED for weight loss, the programme's main route, so the arm's total effect on return to normal was larger;
the report sets the model's ratio of crude rates beside it without a verdict."""


def _returns_to_normal(enrolled_runs, follow_up_years: float) -> dict:
    """First returns to normal regulation seen by the clinic (a yearly visit, before any diagnosis): how many,
    the share of the enrolled, and per 100 person-years at risk (until the return, a diagnosis or the end)."""
    normal = enrolled_runs["clinic_normal_day"].to_numpy(float)
    diagnosis = enrolled_runs["clinic_diagnosis_day"].to_numpy(float)
    closing = closing_visit_day(follow_up_years)
    event = ~np.isnan(normal) & (normal <= closing)
    # NaN means not diagnosed: such a patient is followed to the closing visit
    diagnosed_or_closing = np.where(np.isnan(diagnosis), closing, np.fmin(diagnosis, closing))
    end = np.where(event, normal, diagnosed_or_closing)
    years = float(end.sum()) / DAYS_PER_YEAR
    return {
        "returns_to_normal": int(event.sum()),
        "returned_to_normal_share": float(event.mean()) if len(event) else math.nan,
        "return_to_normal_per_100py": 100.0 * float(event.sum()) / years if years > 0 else math.nan,
    }


WEIGHT_GOAL_FRACTION = 0.07
"""The DPP's weight-loss goal: 7 % of the starting weight (DPP Research Group 2002, Diabetes Care 25:2165)."""
YEAR_ONE_LOSS_FRACTION = 0.05
"""The weight loss whose share at year 1 the DPP reported (Apolzan 2019): 5 % of the starting weight."""
CORE_CURRICULUM_DAY = 168
"""End of the 16-session core curriculum, week 24, where the DPP first assessed the goals."""
YEAR_ONE_DAY = visit_day(YEARLY_EVERY_VISITS)
"""The year-1 visit's day (365), where the year-1 weight is read (a 1-year run's last day, 364, in such a run)."""
WEIGHT_LOSS_SHARES = {
    "week 24": Published(49.0, math.nan, math.nan, "Wing 2004 Obes Res 12:1426 (abstract): 49 % at week 24"),
    "year 1 (5 %)": Published(
        62.6,
        math.nan,
        math.nan,
        "Apolzan 2019 Ann Intern Med 170:682 (abstract): after 1 year 640 (62.6 %) of the lifestyle arm had lost at"
        " least 5 % of their weight (13.4 % of the placebo arm)",
    ),
    "end": Published(37.0, math.nan, math.nan, "Wing 2004 Obes Res 12:1426 (abstract): 37 % at the last visit"),
}
"""Shares of the DPP lifestyle participants at a weight loss: the 7 % goal at week 24 and at the last visit, and 5 %
(not a goal of the DPP's) at year 1. The shipped sweep's adherence draws are set from these three shares (so the
lifestyle arm's are a check of that setting, not a validation): the year-1 share pins how much the participants
differ."""

VISIT_WEIGHT_PREFIX = "weight_change_visit"
"""Columns ``weight_change_visit<k>_kg``: each run's weight change at the clinic's visit k (0: the screening),
``glucosim.sweep.visits.visit_days``; the covariate of the weight-and-risk model (``weight_hazard_ratio``)."""

DPP_HAZARD_RATIO_PER_5_KG = Published(
    0.49,
    0.43,
    0.57,
    "Hamman 2006 Diabetes Care 29:2102, Table 2 (the journal's table page, read by a helper): lifestyle arm, Cox"
    " model of weight change as a time-dependent covariate, adjusted for age, sex, race/ethnicity and baseline"
    " weight; 0.42 (0.35-0.50) in the multivariate model, which adds the changes in diet and activity and baseline"
    " HbA1c, fasting insulin, glucose and insulin-to-glucose ratio (the abstract's '16 % lower risk per kg, adjusted"
    " for changes in diet and activity')",
)
"""Diabetes hazard ratio per 5 kg of weight lost within the DPP's lifestyle arm. The model's counterpart
(``weight_hazard_ratio``) adjusts for baseline weight only: the virtual patients have no age, sex or ethnicity."""
HAZARD_RATIO_KG = 5.0
"""The weight lost (kg) the hazard ratio is given per, as Hamman 2006 gave it."""
DPP_ACTIVITY_GOAL_REDUCTION = Published(
    44.0,
    math.nan,
    math.nan,
    "Hamman 2006 Diabetes Care 29:2102 (abstract): among the 495 lifestyle participants not meeting the weight-loss"
    " goal at year 1, those who achieved the physical activity goal had 44 % lower diabetes incidence",
)
"""The DPP's within-arm association of the activity goal with diabetes, among those who missed the weight goal
(no interval in the abstract). The model's counterpart: ``activity_goal_reduction``."""
ACTIVITY_GOAL_SHARE = 1.0
"""An ``<arm>.activity`` adherence draw at or above this walks the whole prescribed 150 min/week: the activity goal."""
MIN_WEIGHT_SPREAD_KG = 0.5
"""Below this spread of the visits' weight changes (SD, kg) the hazard ratio is not estimated: the model's control
arm changes weight by a few hundred grams, and a ratio per 5 kg read off that would be noise."""


def weight_columns(results, daily, follow_up_years: float = FOLLOW_UP_YEARS):
    """``results`` with each run's weight change (kg) at week 24, year 1 and the end of the follow-up, and at
    every clinic visit (``VISIT_WEIGHT_PREFIX``), when the sweep kept the daily ``weight_change_kg``."""
    if daily is None or "weight_change_kg" not in daily.columns:
        return results
    end_day = year_start_day(follow_up_years) - 1
    by_day = daily.set_index(["run_id", "day"])["weight_change_kg"]
    days_kept = set(by_day.index.get_level_values("day"))
    out = results.copy()
    visits = visit_days(max(days_kept) + 1)
    # year 1 at the run's own year-1 visit: a 1-year run's falls on its last day, 364 (none in a shorter run)
    year_one_day = visits[YEARLY_EVERY_VISITS] if len(visits) > YEARLY_EVERY_VISITS else None
    wanted = [
        ("weight_change_week24_kg", CORE_CURRICULUM_DAY),
        ("weight_change_year1_kg", year_one_day),
        ("weight_change_end_kg", end_day),
    ]
    wanted += [(f"{VISIT_WEIGHT_PREFIX}{k}_kg", day) for k, day in enumerate(visits)]
    for column, day in wanted:
        out[column] = out["run_id"].map(by_day.xs(day, level="day")) if day in days_kept else math.nan
    return out


def weight_goal_table(results, enrolled_samples=None):
    """Per arm: mean weight change (kg and % of the starting weight) at week 24, year 1 and the end, and the share
    at the DPP's 7 % goal (week 24, end) or at 5 % (year 1), among the enrolled (all patients when
    ``enrolled_samples`` is None)."""
    import pandas as pd

    if "weight_change_week24_kg" not in results.columns or "body_weight" not in results.columns:
        return pd.DataFrame()
    rows = []
    for arm, group in results.groupby("arm", sort=False):
        ok = group[group["status"].isin(COMPLETED_STATUSES)]
        if enrolled_samples is not None:
            ok = ok[ok["sample"].isin(enrolled_samples)]
        row = {"arm": arm, "patients": len(ok)}
        for label, column, goal in (
            ("week24", "weight_change_week24_kg", WEIGHT_GOAL_FRACTION),
            ("year1", "weight_change_year1_kg", YEAR_ONE_LOSS_FRACTION),
            ("end", "weight_change_end_kg", WEIGHT_GOAL_FRACTION),
        ):
            change_kg = ok[column].to_numpy(float) if column in ok.columns else np.full(len(ok), math.nan)
            fraction = change_kg / ok["body_weight"].to_numpy(float)
            measured = fraction[np.isfinite(fraction)]  # a weight not read that day is not "not at the goal"
            row[f"weight_change_{label}_kg"] = (
                float(np.nanmean(change_kg)) if np.isfinite(change_kg).any() else math.nan
            )
            row[f"weight_change_{label}_percent"] = 100.0 * float(np.mean(measured)) if len(measured) else math.nan
            row[f"at_goal_{label}_percent"] = 100.0 * float(np.mean(measured <= -goal)) if len(measured) else math.nan
        rows.append(row)
    return pd.DataFrame(rows)


def weight_hazard_ratio(runs, follow_up_years: float = FOLLOW_UP_YEARS, unit_kg: float = HAZARD_RATIO_KG):
    """Hazard ratio of diabetes per ``unit_kg`` of weight lost, within one arm's enrolled runs, as Hamman 2006
    estimated it in the DPP's lifestyle arm: a Cox model with the weight change at the latest clinic visit before
    the time at risk as a time-dependent covariate (``VISIT_WEIGHT_PREFIX`` columns; a visit's weight holds until
    the next visit, so an onset diagnosed at a visit sees the visit before), adjusted for baseline weight when the
    runs' baseline weights differ; onsets are the clinic's confirmed diagnoses up to the closing visit.

    Returns ``(ratio, low, high, onsets)`` with the 95 % interval; NaNs when the runs hold no visit weights (or a
    visit's weight is missing), no onset, or weights that do not vary (the control arm: the model's weight does
    not change without the programme).
    """
    import pandas as pd

    visit_columns = sorted(
        (c for c in runs.columns if c.startswith(VISIT_WEIGHT_PREFIX)),
        key=lambda c: int(c[len(VISIT_WEIGHT_PREFIX) : -len("_kg")]),
    )
    nothing = (math.nan, math.nan, math.nan, 0)
    if not visit_columns or "clinic_diagnosis_day" not in runs.columns or not len(runs):
        return nothing
    closing = closing_visit_day(follow_up_years)
    days = visit_days(closing + 1)[: len(visit_columns)]
    weights = runs[visit_columns].to_numpy(float)
    onset = runs["clinic_diagnosis_day"].to_numpy(float)
    baseline_kg = runs["body_weight"].to_numpy(float) if "body_weight" in runs.columns else np.zeros(len(runs))
    if not np.isfinite(baseline_kg).all():
        return nothing
    rows = []
    for i in range(len(runs)):
        event = bool(np.isfinite(onset[i]) and onset[i] <= closing)
        end = onset[i] if event else closing
        for k, start in enumerate(days):
            stop = min(days[k + 1] if k + 1 < len(days) else closing, end)
            if stop <= start:
                break
            rows.append((i, start, stop, event and stop == end, -weights[i, k] / unit_kg, baseline_kg[i]))
    frame = pd.DataFrame(rows, columns=["run", "start", "stop", "event", "loss", "baseline_weight_kg"])
    if not frame["event"].any() or not np.isfinite(frame["loss"]).all():
        return nothing
    if frame["loss"].std() * unit_kg < MIN_WEIGHT_SPREAD_KG:  # no weight to relate the risk to: not estimable
        return nothing
    if np.ptp(baseline_kg) == 0.0:  # one baseline weight for all (a sweep that does not vary it): nothing to adjust
        frame = frame.drop(columns="baseline_weight_kg")
    from lifelines import CoxTimeVaryingFitter  # the sweep extra (an entry point checked it: require_extra)
    from lifelines.exceptions import ConvergenceError

    try:
        fit = CoxTimeVaryingFitter().fit(frame, id_col="run", start_col="start", stop_col="stop", event_col="event")
    except (ConvergenceError, np.linalg.LinAlgError):  # e.g. every onset before any weight changed: the ratio is
        return nothing  # not identified, so no estimate and no verdict
    row = fit.summary.loc["loss"]
    return (
        float(row["exp(coef)"]),
        float(row["exp(coef) lower 95%"]),
        float(row["exp(coef) upper 95%"]),
        int(frame["event"].sum()),
    )


def activity_goal_reduction(runs, arm: str, follow_up_years: float = FOLLOW_UP_YEARS) -> tuple[float, float, float]:
    """Among one arm's enrolled runs free of diabetes at the year-1 visit and short of the 7 % weight goal there:
    the relative reduction (%) of the incidence after year 1 in those at the activity goal (the ``<arm>.activity``
    draw at ``ACTIVITY_GOAL_SHARE`` or more) against those short of it, with the log-rate-ratio interval, as in
    Hamman 2006's comparison. NaNs when the arm has no activity draw, no year-1 weight, or no onset in a group."""
    activity_column = f"{arm}.activity"
    nothing = (math.nan, math.nan, math.nan)
    if activity_column not in runs.columns or "weight_change_year1_kg" not in runs.columns or not len(runs):
        return nothing
    closing = closing_visit_day(follow_up_years)
    onset = runs["clinic_diagnosis_day"].to_numpy(float)
    free_at_year_one = ~(np.isfinite(onset) & (onset <= YEAR_ONE_DAY))
    loss = -runs["weight_change_year1_kg"].to_numpy(float) / runs["body_weight"].to_numpy(float)
    short_of_goal = np.isfinite(loss) & (loss < WEIGHT_GOAL_FRACTION)
    at_activity_goal = runs[activity_column].to_numpy(float) >= ACTIVITY_GOAL_SHARE
    if closing <= YEAR_ONE_DAY:
        return nothing
    event = np.isfinite(onset) & (onset <= closing)
    years_at_risk = (np.where(event, onset, closing) - YEAR_ONE_DAY) / DAYS_PER_YEAR  # from the year-1 visit on
    found = []
    for group in (short_of_goal & at_activity_goal, short_of_goal & ~at_activity_goal):
        group &= free_at_year_one
        found.append((int(event[group].sum()), float(years_at_risk[group].sum())))
    if min(events for events, _ in found) == 0:  # no interval on the log scale: no estimate, no verdict
        return nothing
    return relative_reduction(*found[0], *found[1])


def load_trial_results(out_dir, loaded=None):
    """A sweep's results, with the virtual clinic's columns (``analysis.sweep.clinic``) when the sweep kept
    the daily fasting glucose and HbA1c it reads, and the weight changes (``weight_columns``) when it kept
    the daily weight.

    The clinic's screening OGTT needs the sweep (``loaded``, or the sweep file the manifest names, if it is
    unchanged): without it HbA1c stands in for the OGTT's 2-h glucose at screening (``results.attrs``
    ``screening_ogtt`` says which). A sweep screened before simulating (``[screening]``) kept its OGTTs in its
    screening table (``glucosim.sweep.screening``): they are read from there, and the clinic must enrol exactly the
    patients that table enrolled (the same visit on the same day-0 values), else a ``SweepError`` says which.
    """
    from glucosim.analysis.sweep.clinic import DAILY_COLUMNS, cached_screening_two_hour_glucose, clinic_outcomes
    from glucosim.errors import SweepError
    from glucosim.sweep.store import SweepStore

    store = SweepStore(out_dir)
    results = store.load_results()
    try:
        daily = store.load_daily()
    except SweepError:  # no daily outputs: the table reads the true course
        return results
    results = weight_columns(results, daily)
    if not set(DAILY_COLUMNS) <= set(daily.columns):
        return results
    screening = store.load_screening()
    if screening is not None:  # screened before simulating: the screening table holds each patient's OGTT
        two_hour = dict(zip(screening["sample"].astype(int), screening["two_hour_glucose_mg_dl"].astype(float)))
    else:
        loaded = loaded if loaded is not None else _sweep_of(store)
        two_hour = cached_screening_two_hour_glucose(loaded, results, out_dir) if loaded is not None else None
    seen = clinic_outcomes(results, daily, screening_two_hour=two_hour)
    seen.attrs["screening_ogtt"] = two_hour is not None
    if screening is not None:
        _check_screening(seen, screening, (store.manifest() or {}).get("arms", [None])[0], out_dir)
    return seen


def _check_screening(seen, screening, reference_arm, out_dir) -> None:
    """The clinic's enrolment (from the runs' day 0) is the screening table's (from the screening's day 0)."""
    from glucosim.errors import SweepError

    reference = seen[seen["arm"] == reference_arm]
    clinic = set(map(int, reference.loc[reference["clinic_enrolled"].astype(bool), "sample"]))
    screened = set(map(int, screening.loc[screening["enrolled"].astype(bool), "sample"]))
    screened &= set(map(int, reference["sample"]))  # a partial sweep: the runs finished so far
    if clinic != screened:
        differ = sorted(clinic ^ screened)
        raise SweepError(
            f"{out_dir}: the screening table enrolled {len(screened)} patients, the clinic reading the runs' day 0 "
            f"{len(clinic)}; they differ for samples {differ[:10]} (was the model changed between the screening and "
            "the runs? rerun the sweep into a new folder)"
        )


def _sweep_of(store):
    """The sweep a results directory was run from, when its file is still where the manifest says and defines the
    same runs (``runs_sha256``: the sweep file's comments and, for a cohort, its sample count may have changed;
    the base scenario's text, comments included, may not)."""
    from glucosim.errors import SweepError
    from glucosim.sweep.load import load_sweep
    from glucosim.sweep.store import runs_sha256

    manifest = store.manifest() or {}
    try:
        loaded = load_sweep(manifest.get("sweep_source", ""))
    except (SweepError, OSError):
        return None
    return loaded if runs_sha256(loaded) == manifest.get("runs_sha256") else None


def verdicts(table) -> list[str]:
    """Plain sentences: does the reference arm's incidence lie in the DPP placebo CI, and the lifestyle
    reduction in the DPP's CI?"""
    lines = []
    for row in table.to_dict("records"):
        if row["arm"] == table.attrs.get("reference_arm", "control"):
            inside = DPP_PLACEBO_INCIDENCE.low <= row["incidence_per_100py"] <= DPP_PLACEBO_INCIDENCE.high
            lines.append(
                f"{row['arm']}: {row['incidence_per_100py']:.1f} per 100 person-years; DPP placebo "
                f"{DPP_PLACEBO_INCIDENCE.value} ({DPP_PLACEBO_INCIDENCE.low}-{DPP_PLACEBO_INCIDENCE.high}): "
                + ("inside the trial's CI (a fit target)" if inside else "OUTSIDE the trial's CI")
            )
        elif row["arm"] == "lifestyle":
            value = row["relative_reduction_percent"]
            inside = DPP_LIFESTYLE_REDUCTION.low <= value <= DPP_LIFESTYLE_REDUCTION.high
            lines.append(
                f"{row['arm']}: relative reduction {_f(value, 0)} % (model CI {_f(row['reduction_ci_low'], 0)} to "
                f"{_f(row['reduction_ci_high'], 0)}); DPP {DPP_LIFESTYLE_REDUCTION.value:.0f} % "
                f"({DPP_LIFESTYLE_REDUCTION.low:.0f}-{DPP_LIFESTYLE_REDUCTION.high:.0f}): "
                + ("agrees (validation, not fitted)" if inside else "DISAGREES (validation, not fitted)")
            )
            ratio = row.get("weight_hazard_ratio", math.nan)
            if math.isfinite(ratio):
                published = DPP_HAZARD_RATIO_PER_5_KG
                inside = published.low <= ratio <= published.high
                lines.append(
                    f"{row['arm']}: diabetes hazard ratio per {HAZARD_RATIO_KG:g} kg of weight lost (within the arm,"
                    f" the weight of the latest visit before, adjusted for baseline weight) "
                    f"{_interval(ratio, row['weight_hazard_ratio_low'], row['weight_hazard_ratio_high'], 2)};"
                    f" DPP lifestyle arm {published.value:.2f} ({published.low:.2f}-{published.high:.2f},"
                    " Hamman 2006): "
                    + ("agrees (validation, not fitted)" if inside else "DISAGREES (validation, not fitted)")
                )
            reduction = row.get("activity_goal_reduction", math.nan)
            if math.isfinite(reduction):
                published = DPP_ACTIVITY_GOAL_REDUCTION
                low, high = row["activity_goal_reduction_low"], row["activity_goal_reduction_high"]
                inside = low <= published.value <= high
                lines.append(
                    f"{row['arm']}: among those short of the 7 % weight goal at year 1, incidence after year 1"
                    f" {abs(reduction):.0f} % {'lower' if reduction >= 0 else 'higher'} at the activity goal than"
                    f" short of it (model CI of the reduction {_f(low, 0)} to {_f(high, 0)} %); DPP"
                    f" {published.value:g} % lower (Hamman 2006, no interval given): "
                    + (
                        "agrees, inside the model's interval (validation, not fitted)"
                        if inside
                        else "DISAGREES, outside the model's interval (validation, not fitted)"
                    )
                )
    return lines


def _f(value: float, digits: int = 1) -> str:
    return "-" if value is None or (isinstance(value, float) and math.isnan(value)) else f"{value:.{digits}f}"


def _interval(value: float, low: float, high: float, digits: int = 1, dash: str = "-") -> str:
    return f"{_f(value, digits)} ({_f(low, digits)}{dash}{_f(high, digits)})"


def markdown(table) -> str:
    """The table as Markdown, with the verdicts below it."""
    years = table.attrs.get("follow_up_years", FOLLOW_UP_YEARS)
    lines = [
        "| arm | enrolled | onsets | person-years | incidence per 100 py (95 % CI) | DPP "
        "| relative reduction % (95 % CI) | DPP |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for row in table.to_dict("records"):
        dpp = "-"
        if not math.isnan(row["dpp_incidence_per_100py"]):
            dpp = _interval(row["dpp_incidence_per_100py"], row["dpp_incidence_ci_low"], row["dpp_incidence_ci_high"])
        reduction = "-"
        if not math.isnan(row["relative_reduction_percent"]):
            reduction = _interval(
                row["relative_reduction_percent"], row["reduction_ci_low"], row["reduction_ci_high"], 0, " to "
            )
        dpp_reduction = "-"
        if not math.isnan(row["dpp_reduction_percent"]):
            published = DPP_LIFESTYLE_REDUCTION
            dpp_reduction = _interval(published.value, published.low, published.high, 0)
        incidence = _interval(row["incidence_per_100py"], row["incidence_ci_low"], row["incidence_ci_high"])
        lines.append(
            f"| {row['arm']} | {row['enrolled']} | {row['diabetes_onsets']} | {_f(row['person_years'])} | "
            f"{incidence} | {dpp} | {reduction} | {dpp_reduction} |"
        )
    if table.attrs.get("clinic"):
        screening = (
            "two fasting glucose tests of 95-125 mg/dl, the second at a 75-g OGTT with a 2-h glucose of 140-199"
            " mg/dl, as the DPP screened (CV 12.7 % for the 2-h glucose)"
            if table.attrs.get("screening_ogtt")
            else "two fasting glucose tests of 95-125 mg/dl, prediabetic at the second; NO screening OGTT (the"
            " sweep file was not found unchanged where the manifest says): HbA1c stands in for the 2-h glucose"
        )
        how = (
            f"enrolled and diagnosed by the virtual DPP clinic (glucosim.analysis.sweep.clinic): a staged screening"
            f" ({screening}), then {follow_up_text(table.attrs.get('yearly_ogtt', False))}."
        )
    else:
        how = "enrolled: prediabetic at year 0 of the reference arm; onset: the first day past a diabetes threshold."
    lines += ["", f"Follow-up {years:g} years; {how}", ""]
    if "return_to_normal_per_100py" in table.columns:
        for row in table.to_dict("records"):
            lines.append(
                f"- {row['arm']}: return to normal regulation (first, at a yearly visit) {row['returns_to_normal']} of"
                f" {row['enrolled']} ({row['returned_to_normal_share']:.0%}), {_f(row['return_to_normal_per_100py'])}"
                f" per 100 person-years at risk; Tabak 2012: {RETURN_TO_NORMAL.low:g}-{RETURN_TO_NORMAL.high:g} a year"
            )
        rates = {row["arm"]: row["return_to_normal_per_100py"] for row in table.to_dict("records")}
        reference = table.attrs.get("reference_arm", "control")
        if "lifestyle" in rates and reference in rates:
            published = LIFESTYLE_RETURN_TO_NORMAL_HAZARD_RATIO
            lifestyle, control = rates["lifestyle"], rates[reference]
            ratio = (
                f"{lifestyle / control:.1f}-fold"
                if math.isfinite(lifestyle) and math.isfinite(control) and control > 0
                else "ratio undefined (no return to normal, or no time at risk, in an arm)"
            )
            lines.append(
                f"- lifestyle / {reference}: return to normal {ratio} (crude rates); DPP: hazard ratio"
                f" {published.value:g} for the programme adjusted for weight loss (Perreault 2009; its total effect"
                " was larger: context, not a like-for-like check)"
            )
    if table.attrs.get("yearly_ogtt"):
        for row in table.to_dict("records"):
            if row["diabetes_onsets"]:
                lines.append(
                    f"- {row['arm']}: the 2-h glucose found {row['onsets_by_two_hour']:.0f} of the"
                    f" {row['diabetes_onsets']} onsets ({row['onsets_by_two_hour'] / row['diabetes_onsets']:.0%},"
                    f" alone or with the fasting glucose); DPP: {DPP_TWO_HOUR_SHARE.value:g} % of confirmed cases"
                    " triggered on the 2-h glucose (Christophi 2013, J Diabetes Complications 27:150, abstract)"
                )
    lines += [f"- {line}" for line in verdicts(table)]
    baseline = table.attrs.get("baseline") or {}
    if baseline:
        lines.append(
            "- baseline of the enrolled (screening tests and the first week's fasting insulin, mean +- SD): "
            + ", ".join(
                f"{label} {mean:.{digits}f} +- {sd:.{digits}f} {unit}"
                for label, (mean, sd, unit, digits) in baseline.items()
            )
            + " (DPP: fasting glucose 106.5 +- 8.3 mg/dl, HbA1c 5.9 +- 0.5 %, 2-h glucose 164.6 +- 17.0 mg/dl,"
            " fasting insulin 161 pmol/l in the placebo arm)"
        )
    weights = table.attrs.get("weights")
    if weights is not None and len(weights):
        lines += [
            "",
            "Weight of the enrolled (a check of the adherence draws, set from these shares: Wing 2004, Apolzan 2019):",
        ]
        for row in weights.to_dict("records"):
            lines.append(
                f"- {row['arm']}: week 24 {_f(row['weight_change_week24_kg'])} kg "
                f"({_f(row['weight_change_week24_percent'])} %), {_f(row['at_goal_week24_percent'], 0)} % at the 7 % "
                f"goal; year 1 {_f(row['weight_change_year1_kg'])} kg ({_f(row['weight_change_year1_percent'])} %),"
                f" {_f(row['at_goal_year1_percent'], 0)} % lost 5 % or more; year {years:g}"
                f" {_f(row['weight_change_end_kg'])} kg ({_f(row['weight_change_end_percent'])} %),"
                f" {_f(row['at_goal_end_percent'], 0)} % at the 7 % goal"
                + (
                    f" (DPP lifestyle: {WEIGHT_LOSS_SHARES['week 24'].value:g} % at the goal at week 24,"
                    f" {WEIGHT_LOSS_SHARES['year 1 (5 %)'].value:g} % with a 5 % loss at year 1,"
                    f" {WEIGHT_LOSS_SHARES['end'].value:g} % at the goal at the last visit, mean 3.2 years)"
                    if row["arm"] == "lifestyle"
                    else ""
                )
            )
    return "\n".join(lines) + "\n"


def unfinished_message(out_dir, done: int, total: int) -> str:
    return (
        f"{out_dir}: the sweep has not finished ({done} of {total} chunks complete); if it is not still running, "
        "resume it with the command that started it (glucosim sweep SWEEP_FILE --out DIR)"
    )


def require_finished(out_dir) -> None:
    """Raise ``SweepError`` unless ``out_dir`` holds a finished sweep (every chunk complete)."""
    from glucosim.errors import SweepError
    from glucosim.sweep.store import SweepStore

    store = SweepStore(out_dir)
    if store.manifest() is None:
        raise SweepError(f"{out_dir}: no sweep results here")
    done, total = store.chunks_done()
    if done < total:
        raise SweepError(unfinished_message(out_dir, done, total))


def main(argv: list[str] | None = None) -> int:
    """``python -m glucosim.analysis.sweep.dpp RESULTS_DIR [--years Y] [--partial]``: print the table (Markdown).

    Exit status 0; 2 on a bad argument, a folder without a sweep, or a sweep that has not finished (unless
    ``--partial``: then the table reads the runs finished so far, under a first line that says so).
    """
    import argparse

    from glucosim.sweep.store import SweepStore

    parser = argparse.ArgumentParser(prog="python -m glucosim.analysis.sweep.dpp", description=__doc__.split("\n")[0])
    parser.add_argument("results_dir")
    parser.add_argument("--years", type=float, default=FOLLOW_UP_YEARS, help="follow-up of the table")
    parser.add_argument(
        "--partial",
        action="store_true",
        help="tabulate a sweep that has not finished (still running, or stopped): the runs finished so far",
    )
    args = parser.parse_args(argv)
    from glucosim._optional import require_extra

    require_extra("sweep", "python -m glucosim.analysis.sweep.dpp")
    store = SweepStore(args.results_dir)
    manifest = store.manifest()
    if manifest is None:
        print(f"error: {args.results_dir} holds no sweep results", file=sys.stderr)
        return 2
    # a sweep still running, or stopped, reads as a smaller trial whose table looks finished: 104 of the shipped
    # sweep's 122 enrolled once gave 9.5 per 100 person-years, outside the DPP's interval (the whole sweep: 10.6)
    done, total = store.chunks_done()
    if done < total and not args.partial:
        print(
            f"error: {unfinished_message(args.results_dir, done, total)}, or pass --partial to tabulate the runs "
            "finished so far",
            file=sys.stderr,
        )
        return 2
    run_years = manifest.get("run_years", manifest["n_years"])
    # within a day: a 1-year sweep's runs last 365 days, 0.9993 years, and --years 1 was refused for it
    if run_years + 1.0 / DAYS_PER_YEAR < args.years:
        print(
            f"error: --years {args.years:g}: the runs last {run_years:.4g} years "
            f"({run_years * DAYS_PER_YEAR:.0f} days), less than the follow-up",
            file=sys.stderr,
        )
        return 2
    from glucosim.errors import SweepError

    try:
        results = load_trial_results(args.results_dir)
    except SweepError as exc:  # --partial before any chunk finished: nothing to read
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if done < total:
        print(
            f"**Partial results: {done} of {total} chunks of the sweep complete; the table reads those runs only.**\n"
        )
    print(markdown(trial_table(results, manifest["arms"][0], args.years)), end="")
    return 0


if __name__ == "__main__":
    sys.exit(main())
