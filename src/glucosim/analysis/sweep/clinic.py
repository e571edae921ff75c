"""A virtual trial clinic: the DPP's visit schedule, diagnosis rule and the day-to-day variability of the tests.

A run's daily table is the patient's true course, smooth from day to day. A
trial does not see it: it sees single tests at visits, each off the patient's
usual level by the within-person variability of the test (biological plus
analytical), and it diagnoses only what a repeat test confirms. The DPP
(Knowler et al. 2002, NEJM 346:393; DPP Research Group 1999, Diabetes Care
22:623, the protocol) screened on a fasting plasma glucose of 95-125 mg/dl,
and a 2-h glucose of 140-199 mg/dl on a 75-g OGTT (impaired glucose tolerance),
measured fasting glucose every 6 months and ran an OGTT every year; diabetes
was a fasting glucose >= 126 mg/dl or a 2-h glucose >= 200 mg/dl, confirmed
by a second test (usually within 6 weeks; only 47 % of first elevated tests
were confirmed, Christophi et al. 2013, J Diabetes Complications 27:150).
Return to normal glucose regulation (Perreault et al. 2012, Lancet 379:2243)
was a fasting glucose < 100 mg/dl and a 2-h glucose < 140 mg/dl at an annual
OGTT.

What the clinic here does with a sweep's daily fasting glucose and HbA1c:

- screening (day 0; ``glucosim.sweep.screening.screening_visit``, the one definition a sweep also runs before
  simulating when its file has ``[screening]``), staged as the DPP's was (Diabetes Care 22:623 and
  Diabetes Care 2005 28:2974, PMC1314971: a preliminary fasting glucose, then
  an OGTT visit whose own samples decide): a preliminary fasting glucose in
  the window (95-125 mg/dl), then at the eligibility visit a 75-g OGTT
  (``clinic.runner.run_protocol("ogtt_75g")`` on the patient's day-0 state,
  ``screening_two_hour_glucose``) with its fasting glucose in the window too
  and its 2-h glucose at impaired glucose tolerance (140-199 mg/dl), both
  criteria as the DPP applied them (Knowler 2002; PMC1314971: "both IGT (2-h
  glucose 140-199 mg/dl) and elevated fasting plasma glucose (95-125 mg/dl)").
  Without the OGTT's 2-h glucose (a sweep read without its sweep file) the
  visit's HbA1c stands in, as before 2026-12-03: enrolled when the visit's
  fasting glucose is in the window, the visit's tests put the patient at the
  ADA's prediabetes stage (fasting glucose >= 100 or HbA1c 5.7-6.4 %), and the
  HbA1c is below 6.5 %;
- every 6 months a fasting glucose; every year also an HbA1c, and the
  OGTT's 2-h glucose when the sweep ran it (``outputs.yearly_ogtt``: the
  runs keep each yearly visit's state and the state 6 weeks later, and run
  the 75-g OGTT there; ``glucosim.sweep.visits`` holds the schedule);
- diabetes, by the DPP's rule when the sweep ran the yearly OGTT: a fasting
  glucose >= 126 mg/dl, or (yearly) a 2-h glucose >= 200 mg/dl, each
  confirmed by the same test 6 weeks later; without it, HbA1c >= 6.5 %
  (confirmed the same way) stands in for the 2-h criterion. The diagnosis
  day is the first visit's, and ``diagnosis_test`` says which test found it;
- return to normal regulation: at a yearly visit before any diagnosis, a
  fasting glucose < 100 mg/dl and a 2-h glucose < 140 mg/dl (Perreault
  2012), or without the OGTT an HbA1c < 5.7 %.

A sweep without ``outputs.yearly_ogtt`` keeps no state after day 0, so the
clinic runs the OGTT only at screening (day 0 needs no simulation: the state
is the run's initial state), and HbA1c stands in for the yearly OGTT, in the
diagnosis and in the return to normal: a difference from the DPP's protocol,
named here and in the reports. The shipped prevention sweep runs the OGTT.

Each test is the true value times (1 + CV z), z standard normal, with the
within-person coefficients of variation of Selvin et al. 2007 (Arch Intern
Med 167:1545; repeat tests ~2 weeks apart in NHANES III): fasting glucose
5.7 %, HbA1c 3.6 %; the OGTT's 2-h glucose 12.7 % (Diabetes Care 1998
21:336, abstract). The draws are a patient's own (seeded by the sample
number), the same in every arm: a paired trial, and the same screening.
"""

from __future__ import annotations

import math

import numpy as np

from glucosim.simulation.markers import (
    FASTING_GLUCOSE_DIABETES_MG_DL,
    FASTING_GLUCOSE_PREDIABETES_MG_DL,
    HBA1C_DIABETES_PERCENT,
    HBA1C_PREDIABETES_PERCENT,
    TWO_HOUR_GLUCOSE_DIABETES_MG_DL,
    TWO_HOUR_GLUCOSE_PREDIABETES_MG_DL,
)

# the screening visit's one definition (its tests, windows, variability and seed): the sweep screens with it before
# simulating (a sweep file's [screening]), and the clinic here screens with it after an unscreened sweep
from glucosim.sweep.screening import (  # noqa: F401 - re-exported: the clinic's settings and windows
    CLINIC_SEED,
    FASTING_GLUCOSE_CV,
    HBA1C_CV,
    SCREENING_FASTING_GLUCOSE_MG_DL,
    SCREENING_OGTT_PROTOCOL,
    SCREENING_TWO_HOUR_GLUCOSE_MG_DL,
    TWO_HOUR_GLUCOSE_CV,
    ClinicSettings,
    ogtt_draws,
    reference_scenario,
    screening_ogtt,
    screening_visit,
    visit_draws,
)

# the follow-up's schedule, defined once with the sweep's runs that keep the states its OGTTs need
from glucosim.sweep.visits import (  # noqa: F401 - re-exported: the clinic's schedule
    CLINIC_DAILY_COLUMNS,
    CONFIRMATION_DAYS,
    OGTT_COLUMN_PREFIX,
    VISITS_PER_YEAR,
    YEARLY_EVERY_VISITS,
    confirmation_day,
    is_yearly,
    ogtt_columns,
    visit_days,
    yearly_ogtt_days,
)

SCREENING_OGTT_FILE = "clinic_screening_ogtt.parquet"
"""Where a sweep directory keeps its screening OGTTs (sample, two_hour_glucose_mg_dl): computed once."""
COLUMNS = (
    "screen_fasting_glucose_mg_dl",
    "screen_hba1c_percent",
    "screen_two_hour_glucose_mg_dl",
    "enrolled",
    "diagnosis_day",
    "diagnosis_test",
    "normal_day",
)
DIAGNOSIS_TESTS = ("fasting", "two_hour", "hba1c")
"""What ``diagnosis_test`` names (joined by '+' when two confirmed tests found it at the same visit)."""


def clinic_course(
    sample: int,
    fasting_mg_dl: np.ndarray,
    hba1c_percent: np.ndarray,
    settings: ClinicSettings = ClinicSettings(),
    screen_two_hour_mg_dl: float = math.nan,
    ogtt_screening: bool | None = None,
    yearly_two_hour_mg_dl: np.ndarray | None = None,
) -> dict:
    """What the clinic sees of one run: screening values, enrolment, diagnosis day and first return to normal.

    Args:
        sample: the patient's sample number (seeds its tests' variability).
        fasting_mg_dl, hba1c_percent: the run's true daily values, day 0 first.
        screen_two_hour_mg_dl: the true 2-h glucose of the eligibility visit's OGTT (NaN: no OGTT, HbA1c stands in).
        ogtt_screening: whether the clinic screened with the OGTT; then a NaN 2-h glucose (a refused test) is not
            enrolled instead of falling back on HbA1c. Default: whether ``screen_two_hour_mg_dl`` is finite.
        yearly_two_hour_mg_dl: the true 2-h glucose of each yearly OGTT and of its repeat 6 weeks later, one row
            (visit, repeat) per year, year 1 first (``visits.yearly_ogtt_days``); None: no yearly OGTT, HbA1c
            stands in for it.
    """
    n = len(fasting_mg_dl)
    days = visit_days(n)
    z = visit_draws(sample, len(days), settings)
    with_ogtt = yearly_two_hour_mg_dl is not None
    if with_ogtt:
        z_ogtt = ogtt_draws(sample, len(days), settings)
        yearly_two_hour = np.asarray(yearly_two_hour_mg_dl, dtype=float).reshape(-1, 2)  # (visit, repeat) a year
        if len(yearly_two_hour) != len(yearly_ogtt_days(n)):
            # tests kept on another schedule (an older clinic's, or another duration) would be read on wrong days
            raise ValueError(
                f"{len(yearly_two_hour)} years of yearly OGTT results, but a course of {n} days has "
                f"{len(yearly_ogtt_days(n))} yearly visits (glucosim.sweep.visits)"
            )

    def fasting(k: int, column: int, day: int) -> float:
        return float(fasting_mg_dl[min(day, n - 1)]) * (1.0 + settings.fasting_glucose_cv * z[k, column])

    def hba1c(k: int, column: int, day: int) -> float:
        return float(hba1c_percent[min(day, n - 1)]) * (1.0 + settings.hba1c_cv * z[k, column])

    def two_hour(k: int, repeat: int) -> float:
        """Yearly visit k's OGTT (repeat 0) or its repeat (1); NaN where the test was not run."""
        year = k // YEARLY_EVERY_VISITS
        return float(yearly_two_hour[year - 1, repeat]) * (1.0 + settings.two_hour_glucose_cv * z_ogtt[k, repeat])

    # the screening visit (sweep.screening: the same visit a screened sweep runs before simulating)
    screening = screening_visit(
        sample,
        float(fasting_mg_dl[0]),
        float(hba1c_percent[0]),
        screen_two_hour_mg_dl,
        settings,
        ogtt_screening=ogtt_screening,
        draws=z[0],
    )
    diagnosis_day = normal_day = math.nan
    diagnosis_test = None
    for k, day in enumerate(days[1:], start=1):
        yearly = is_yearly(k)
        confirm = confirmation_day(day, n)
        found = {
            "fasting": fasting(k, 0, day) >= FASTING_GLUCOSE_DIABETES_MG_DL
            and fasting(k, 1, confirm) >= FASTING_GLUCOSE_DIABETES_MG_DL,
            # NaN (no test) compares False: no diagnosis from a missing test
            "two_hour": with_ogtt
            and yearly
            and two_hour(k, 0) >= TWO_HOUR_GLUCOSE_DIABETES_MG_DL
            and two_hour(k, 1) >= TWO_HOUR_GLUCOSE_DIABETES_MG_DL,
            "hba1c": not with_ogtt
            and yearly
            and hba1c(k, 2, day) >= HBA1C_DIABETES_PERCENT
            and hba1c(k, 3, confirm) >= HBA1C_DIABETES_PERCENT,
        }
        if any(found.values()):
            diagnosis_day = float(day)
            diagnosis_test = "+".join(test for test in DIAGNOSIS_TESTS if found[test])
            break
        if yearly and math.isnan(normal_day) and fasting(k, 0, day) < FASTING_GLUCOSE_PREDIABETES_MG_DL:
            tolerant = (
                two_hour(k, 0) < TWO_HOUR_GLUCOSE_PREDIABETES_MG_DL
                if with_ogtt
                else hba1c(k, 2, day) < HBA1C_PREDIABETES_PERCENT
            )
            if tolerant:
                normal_day = float(day)
    return {
        **screening,
        "diagnosis_day": diagnosis_day,
        "diagnosis_test": diagnosis_test,
        "normal_day": normal_day,
    }


def follow_up_text(yearly_ogtt: bool, settings: ClinicSettings = ClinicSettings()) -> str:
    """The follow-up's tests, diagnosis and return to normal, as the reports say them (one wording for the trial
    table and the population fit's report), from the clinic's own thresholds and settings."""
    weeks = f"{CONFIRMATION_DAYS / 7:g} weeks"
    fasting_cv = f"CV {100 * settings.fasting_glucose_cv:g} % for fasting glucose, Selvin 2007 Arch Intern Med 167:1545"
    if yearly_ogtt:
        return (
            "fasting glucose every 6 months and a 75-g OGTT every year (run on the patient's state at the visit),"
            f" each test off the true value by its within-person variability ({fasting_cv};"
            f" {100 * settings.two_hour_glucose_cv:g} % for the 2-h glucose, Diabetes Care 1998 21:336; the"
            f" patient's own draws); diabetes by the DPP's rule, confirmed by the same test {weeks} later (fasting"
            f" glucose >= {FASTING_GLUCOSE_DIABETES_MG_DL:g} mg/dl or 2-h glucose >="
            f" {TWO_HOUR_GLUCOSE_DIABETES_MG_DL:g} mg/dl); return to normal at a yearly visit (fasting glucose <"
            f" {FASTING_GLUCOSE_PREDIABETES_MG_DL:g} mg/dl and 2-h glucose < {TWO_HOUR_GLUCOSE_PREDIABETES_MG_DL:g}"
            " mg/dl)"
        )
    return (
        "fasting glucose every 6 months and HbA1c every year, each test off the true value by its within-person"
        f" variability ({fasting_cv}; {100 * settings.hba1c_cv:g} % for HbA1c; the patient's own draws); diabetes"
        f" confirmed by a repeat test {weeks} later (fasting glucose >= {FASTING_GLUCOSE_DIABETES_MG_DL:g} mg/dl or"
        f" HbA1c >= {HBA1C_DIABETES_PERCENT:g} %, HbA1c standing in for the DPP's yearly OGTT: the sweep did not"
        " run it, outputs.yearly_ogtt); return to normal at a yearly visit (fasting glucose <"
        f" {FASTING_GLUCOSE_PREDIABETES_MG_DL:g} mg/dl and HbA1c < {HBA1C_PREDIABETES_PERCENT:g} %)"
    )


def has_yearly_ogtt(results) -> bool:
    """Whether a sweep's results hold the yearly OGTTs (``outputs.yearly_ogtt``)."""
    return any(str(column).startswith(OGTT_COLUMN_PREFIX) for column in results.columns)


def clinic_outcomes(results, daily, settings: ClinicSettings = ClinicSettings(), screening_two_hour=None):
    """``results`` with the clinic's columns added (``clinic_`` + COLUMNS), from the sweep's daily table
    (long format: run_id, day, fasting_glucose_mg_dl, hba1c_percent). Runs without a daily course (failed)
    get NaN and are not enrolled.

    Args:
        screening_two_hour: sample -> the true 2-h glucose of the eligibility visit's OGTT
            (``screening_two_hour_glucose``); None: no OGTT, HbA1c stands in.
    """
    import pandas as pd

    found = {}
    for run_id, course in daily.sort_values(["run_id", "day"]).groupby("run_id", sort=False):
        found[int(run_id)] = course
    two_hour = screening_two_hour or {}
    # the yearly OGTTs, when the sweep ran them (outputs.yearly_ogtt): (visit, repeat) columns, year 1 first
    n_ogtt_years = sum(str(column).startswith(OGTT_COLUMN_PREFIX) for column in results.columns) // 2
    yearly = None
    if n_ogtt_years:
        ogtt = ogtt_columns(n_ogtt_years)
        missing = [column for column in ogtt if column not in results.columns]
        if missing:
            raise ValueError(f"the results' yearly OGTT columns are not a (visit, repeat) pair a year: no {missing[0]}")
        yearly = results[ogtt].to_numpy(float).reshape(len(results), n_ogtt_years, 2)
    rows = []
    for row, (run_id, sample) in enumerate(zip(results["run_id"].to_numpy(), results["sample"].to_numpy())):
        course = found.get(int(run_id))
        if course is None:
            rows.append({"enrolled": False, **{c: math.nan for c in COLUMNS if c != "enrolled"}})
            continue
        rows.append(
            clinic_course(
                int(sample),
                course["fasting_glucose_mg_dl"].to_numpy(float),
                course["hba1c_percent"].to_numpy(float),
                settings,
                float(two_hour.get(int(sample), math.nan)),
                ogtt_screening=screening_two_hour is not None,
                yearly_two_hour_mg_dl=None if yearly is None else yearly[row],
            )
        )
    table = pd.DataFrame(rows, index=results.index, columns=list(COLUMNS)).add_prefix("clinic_")
    table["clinic_enrolled"] = table["clinic_enrolled"].astype(bool)
    table["clinic_diagnosis_test"] = table["clinic_diagnosis_test"].astype(pd.StringDtype())
    return pd.concat([results, table], axis=1)


def screening_two_hour_glucose(loaded, results, samples=None) -> dict[int, float]:
    """sample -> the true 2-h glucose of a 75-g OGTT on the morning of day 0 (the eligibility visit), run on the
    patient before any intervention: the sweep's first arm (the reference), from the results' variable columns.

    Day 0's state is the run's initial state, so no simulation precedes the test (~0.03 s of CPU a patient).
    A patient whose test is refused (a failed run) gets NaN and is not enrolled.

    Args:
        loaded: the ``LoadedSweep`` the results come from.
        results: the sweep's results (columns ``sample`` and the sweep's variables).
        samples: the samples to test (default: all).
    """
    from glucosim.errors import GlucosimError

    names = list(loaded.variable_names)
    rows = results.drop_duplicates("sample").set_index("sample")
    wanted = rows.index if samples is None else [s for s in samples if s in rows.index]
    found: dict[int, float] = {}
    for sample in wanted:
        values = {name: float(rows.at[sample, name]) for name in names}
        try:
            found[int(sample)] = screening_ogtt(reference_scenario(loaded, sample, values, "screening OGTT"))
        except GlucosimError:
            found[int(sample)] = math.nan
    return found


def screening_cache_key(out_dir) -> str:
    """What the cached day-0 OGTTs of a sweep directory depend on (16 hex digits): the sweep's runs and parameter
    table (from its manifest) and every source and data file that can change the test, so an edit of the model, the
    protocol or the clinic, or another sweep in the same folder, is not served stale values."""
    import hashlib
    from pathlib import Path

    from glucosim.parameter_identity import parameter_values_sha256
    from glucosim.sweep.store import SweepStore, parameter_identity, results_source_sha256

    manifest = SweepStore(Path(out_dir)).manifest() or {}
    digest = hashlib.sha256()
    digest.update(str(manifest.get("runs_sha256", "")).encode() + b"\0")
    # the table by its values, not its texts: the folder's (its runs) and the current one (this OGTT's model)
    digest.update(parameter_identity(manifest).encode() + b"\0")
    digest.update(parameter_values_sha256().encode() + b"\0")
    # the source and data files that can change a day-0 OGTT (sweep.store.RESULTS_SOURCE_FOLDERS)
    digest.update(results_source_sha256().encode())
    return digest.hexdigest()[:16]


def cached_screening_two_hour_glucose(loaded, results, out_dir) -> dict[int, float]:
    """``screening_two_hour_glucose``, kept in ``out_dir/SCREENING_OGTT_FILE`` under ``screening_cache_key``; only
    samples missing there are tested, and a file with another key is tested again. A folder that cannot be written
    (read-only results) is read, not cached into."""
    from pathlib import Path

    import pandas as pd

    from glucosim.sweep.store import read_parquet_file, write_parquet_atomically

    path = Path(out_dir) / SCREENING_OGTT_FILE
    key = screening_cache_key(out_dir)
    known: dict[int, float] = {}
    if path.is_file():
        try:
            table = read_parquet_file(path)
            if "key" in table.columns and (table["key"] == key).all():
                known = dict(zip(table["sample"].astype(int), table["two_hour_glucose_mg_dl"].astype(float)))
        except Exception:  # noqa: BLE001 - an unreadable cache is tested again
            known = {}
    missing = sorted(set(int(s) for s in results["sample"].unique()) - set(known))
    if missing:
        known.update(screening_two_hour_glucose(loaded, results, missing))
        frame = pd.DataFrame({"sample": list(known), "two_hour_glucose_mg_dl": list(known.values())})
        frame["key"] = key
        try:
            write_parquet_atomically(frame.sort_values("sample"), path)
        except OSError:  # a read-only results folder: the values are used, not kept
            pass
    return known


DAILY_COLUMNS = CLINIC_DAILY_COLUMNS
"""What the clinic reads of a sweep's daily outputs (``glucosim.sweep.visits``: a sweep with the yearly OGTT is
refused without them)."""


def has_clinic_inputs(daily) -> bool:
    return daily is not None and all(column in daily.columns for column in ("run_id", "day", *DAILY_COLUMNS))
