"""A virtual UKPDS population: DPP-screened patients, diagnosed, then the UKPDS conventional arm's protocol (issue 11).

A diagnostic tool: it changes no model, parameter, cohort or validation file, and reports what it gives. It answers
what UKPDS 16's medians (Diabetes 1995 44:1249, abstract: conventional arm, primarily diet, median HbA1c 6.8 % at 1
year and 8.0 % at 6 years after randomisation, median fasting plasma glucose 8.2 and 9.5 mmol/l) become when glucosim
measures them on a population of diagnosed patients instead of one subject (scenario 03 under
``glucosim.calibration.course.diet_therapy_scenario`` from its presentation: validation/course/beta_cell_decline.toml).
docs/ukpds_population.md reports its runs: the latest on the protocol that restricts energy for the 3 months before
randomisation (4.5 kg lost on scenario 03's subject; since 2026-12-06), the earlier ones at the same energy throughout.

    PYTHONPATH=src nice -n 10 python tools/ukpds_population.py --out results/ukpds_population --workers 2

The design, fixed before the measurement was run (docs/ukpds_population.md says the same, with its reasons):

1. The population: the ``prediabetic`` cohort (models/cohorts/prediabetic.toml, fitted to the DPP's baseline and
   placebo course), drawn, screened and enrolled exactly as the shipped prevention sweep does it
   (scenarios/sweeps/prediabetes_lifestyle.toml: its seed, its cohort, its DPP screening, its control arm), with
   ``SCREENED`` patients screened instead of the file's (patient i is the same at any cohort size, so the shipped
   sweep's patients are the first ones here), followed on the control arm for the sweep's 3 years
   (``FOLLOW_UP_YEARS``: the window the cohort's drift was fitted to). The sweep itself is run
   (``glucosim.sweep.run_sweep`` on the shipped file with only its control arm and the larger sample count:
   ``population_sweep``), so it resumes where it stopped.
2. The diagnosis day: the first day an enrolled patient's daily fasting glucose reaches 126 mg/dl
   (``glucosim.calibration.course.diagnosis_day``, the rule of the one-subject measurement), within the follow-up.
3. From that day (a screen-detected population: it does not wait for the one subject's presentation at HbA1c
   9.1 %), the UKPDS conventional arm's protocol exactly as ``diet_therapy_scenario`` builds it (the UKPDS diet, its
   energy restricted for 3 months and then holding the weight lost, the drift of sensitivity stopped), for 6 years
   and 3 months (``PROTOCOL_DAYS``); the run is the patient's control-arm scenario from day 0, as ``course_runs``
   runs scenario 03.
4. UKPDS's entry: 3 months of diet, then randomised only with a fasting plasma glucose of 6.1-15.0 mmol/l
   (``ENTRY_FASTING_MMOL_L``; UKPDS 33, Lancet 1998 352:837, in a secondary copy: the mean of two fasting glucose
   tests; UKPDS 16's abstract says 6.0-15.0) and no symptoms (not modelled). Applied to the 30-day mean fasting glucose
   (the course's clinic reading, ``SMOOTH_DAYS``) on the day 3 months after diagnosis (``RANDOMISATION_DAYS`` after it).
   Years are counted from that day.
5. Read at 1 and 6 years after randomisation: HbA1c (the day's value) and fasting glucose (30-day mean); medians and
   quartiles with and without the entry criterion; the share in remission (HbA1c < 6.0 %, ``REMISSION_HBA1C``; and
   < 6.5 %, the consensus definition of remission, ``REMISSION_HBA1C_CONSENSUS``) and failing (HbA1c >= 7.0 %,
   ``FAILURE_HBA1C``); the share whose fasting glucose passes 15 mmol/l after randomisation (UKPDS then added drugs
   in the conventional arm: not modelled here). Also HbA1c and fasting glucose counted from the diagnosis, on the
   days ``glucosim.calibration.course.course_measures`` reads without a protocol table (the scenario as it is;
   tests/test_ukpds_population.py checks they are its values; the one subject itself is read from randomisation
   after its presentation since 2026-12-06, evening), and the baseline at diagnosis.

Progress goes to stderr; CPU time (this process and its workers) is printed at the end.
"""

from __future__ import annotations

import argparse
import functools
import math
import os
import resource
import sys
import time
from pathlib import Path

import numpy as np
import tomllib

from glucosim.calibration.course import UKPDS_RUN_IN_DAYS
from glucosim.errors import raise_if_interrupted
from glucosim.physiology.units import DAYS_PER_YEAR, MG_DL_PER_MMOL_L

REPOSITORY = Path(__file__).resolve().parents[1]
SWEEP = REPOSITORY / "scenarios" / "sweeps" / "prediabetes_lifestyle.toml"
"""The shipped prevention sweep: its cohort, seed, screening and control arm define the population."""
CONTROL_ARM = "control"
SCREENED = 10_000
"""Patients screened (the shipped sweep: 3500 until 2026-12-06, ~122 enrolled and ~35 confirmed onsets in 3 years with
the cohort of 2026-12-03, when this was chosen; 7000 since). Chosen so that ~100 or more are diagnosed within the
follow-up."""
FOLLOW_UP_YEARS = 3.0
"""The control arm's follow-up before diagnosis: the shipped sweep's (the DPP's) 3 years, the window over which the
cohort's drift of sensitivity was fitted (docs/population.md); longer runs extrapolate that drift, and a run whose
compounding drift takes sensitivity out of the table's range is refused (scenario/schema.py,
``combined_sensitivity_problem``), which would drop the fastest decliners."""
RANDOMISATION_DAYS = UKPDS_RUN_IN_DAYS
"""UKPDS's 3 months of diet between diagnosis and randomisation (91 days)."""
YEAR_DAYS = round(DAYS_PER_YEAR)
"""1 year after randomisation (365 days)."""
SIX_YEARS_DAYS = round(6 * DAYS_PER_YEAR)
"""6 years after randomisation (2192 days: Python rounds 2191.5 to the even neighbour)."""
PROTOCOL_DAYS = RANDOMISATION_DAYS + SIX_YEARS_DAYS
"""The protocol runs 6 years and 3 months from the diagnosis; its last day is the 6-year reading."""
ENTRY_FASTING_MMOL_L = (6.1, 15.0)
"""UKPDS 33 (Lancet 1998 352:837; read in a secondary copy, medsummariesweekly.com/ukpds-33): after 3 months' diet, a
mean of two fasting plasma glucose values of 6.1-15.0 mmol/l. UKPDS 16's abstract (read) gives 6.0-15.0 mmol/l."""
REMISSION_HBA1C = 6.0
"""HbA1c below which a patient counts as in remission: between the course's two outcomes at diagnosis (remission at
~5.8 %, failure from ~7.7 %: validation/course/beta_cell_decline.toml), below the consensus cut."""
REMISSION_HBA1C_CONSENSUS = 6.5
"""The consensus definition of remission of type 2 diabetes (HbA1c < 6.5 % without glucose-lowering drugs; Riddle et
al. 2021, Diabetes Care 44:2438, cited from memory, not read this session): diet therapy is not a drug."""
FAILURE_HBA1C = 7.0
"""HbA1c at or above which the diet counts as failing (the usual treatment target of 7 %)."""
RESCUE_FASTING_MMOL_L = 15.0
"""UKPDS's conventional arm added drugs for a fasting plasma glucose above 15 mmol/l or symptoms (UKPDS 33, secondary
copy; UKPDS 24, Ann Intern Med 1998 128:165, abstract: the same 15 mmol/l defined primary diet failure)."""
UKPDS_16_FASTING_MMOL_L = {"fasting_1y_mmol_l": 8.2, "fasting_6y_mmol_l": 9.5}
"""UKPDS 16 (Diabetes 1995 44:1249, abstract read): the conventional arm's median fasting glucose in the paper's
units, years after randomisation. Its HbA1c medians, the validation ranges and the rise's range are the course
targets' (validation/course/beta_cell_decline.toml, read by ``course_target``)."""


def course_target(name: str):
    """The course target ``name`` of validation/course (its published value and range: one definition)."""
    from glucosim.calibration.course import load_course_targets

    return next(target for target in load_course_targets() if target.name == name)


@functools.lru_cache(maxsize=4)
def population_sweep(samples: int = SCREENED, follow_up_years: float = FOLLOW_UP_YEARS):
    """The shipped prevention sweep with only its control arm, ``samples`` patients and ``follow_up_years``.

    Everything else is the file's: cohort, seed, screening, outputs. Dropping the lifestyle arm drops its adherence
    draws and nothing else (each draw has its own stream: glucosim.sweep.design), so sample i is the shipped sweep's
    patient i.
    """
    from glucosim.sweep.load import parse_sweep

    text = SWEEP.read_text()
    data = tomllib.loads(text)
    data["design"]["samples"] = int(samples)
    data["duration_years"] = float(follow_up_years)
    data["arms"] = [arm for arm in data["arms"] if arm["name"] == CONTROL_ARM]
    data["name"] = f"{data['name']} (control arm only, {samples} screened: tools/ukpds_population.py)"
    return parse_sweep(data, source=str(SWEEP), text=text)


def diagnosis_days(daily) -> dict[int, int | None]:
    """run_id -> the first day of the run whose daily fasting glucose reaches 126 mg/dl (None: none does), from a
    sweep's long daily table (run_id, day, fasting_glucose_mg_dl): ``course.diagnosis_day`` on each run."""
    from glucosim.calibration.course import diagnosis_day

    found = {}
    for run_id, course in daily.sort_values(["run_id", "day"]).groupby("run_id", sort=True):
        found[int(run_id)] = diagnosis_day(course.reset_index(drop=True))
    return found


def entry_fasting_mg_dl() -> tuple[float, float]:
    return tuple(value * MG_DL_PER_MMOL_L for value in ENTRY_FASTING_MMOL_L)  # type: ignore[return-value]


def meets_entry(fasting_mg_dl: float) -> bool:
    """UKPDS's randomisation criterion on the fasting glucose after 3 months of diet (6.1-15.0 mmol/l, inclusive)."""
    low, high = entry_fasting_mg_dl()
    return bool(math.isfinite(fasting_mg_dl) and low <= fasting_mg_dl <= high)


def readings(daily, onset: int, body_weight_kg: float, height_cm: float) -> dict[str, float]:
    """What is read off one patient's protocol run (daily table indexed by day, diet from ``onset``).

    Fasting glucose is the 30-day mean (``course.SMOOTH_DAYS``), HbA1c and weight the day's value. Days are counted
    from the diagnosis (``onset``): randomisation 3 months later, then 1 and 6 years after it.
    """
    from glucosim.calibration.course import SMOOTH_DAYS

    fasting = daily["fasting_glucose_mg_dl"].rolling(SMOOTH_DAYS, min_periods=1).mean().to_numpy(float)
    hba1c = daily["hba1c_percent"].to_numpy(float)
    weight = body_weight_kg + daily["weight_change_kg"].to_numpy(float)
    randomised = onset + RANDOMISATION_DAYS

    def at(values, day):
        return float(values[day]) if 0 <= day < len(values) else math.nan

    after = fasting[randomised : onset + PROTOCOL_DAYS + 1]
    return {
        "diagnosis_day": float(onset),
        "fasting_at_diagnosis_mg_dl": at(fasting, onset),
        "hba1c_at_diagnosis": at(hba1c, onset),
        "weight_at_diagnosis_kg": at(weight, onset),
        "bmi_at_diagnosis": at(weight, onset) / (height_cm / 100.0) ** 2,
        "fasting_at_entry_mg_dl": at(fasting, randomised),
        "hba1c_at_entry": at(hba1c, randomised),
        "fasting_1y_mg_dl": at(fasting, randomised + YEAR_DAYS),
        "hba1c_1y": at(hba1c, randomised + YEAR_DAYS),
        "fasting_6y_mg_dl": at(fasting, randomised + SIX_YEARS_DAYS),
        "hba1c_6y": at(hba1c, randomised + SIX_YEARS_DAYS),
        "max_fasting_after_entry_mg_dl": float(np.max(after)) if len(after) else math.nan,
        # counted from the diagnosis, on the days ``course.course_measures`` reads without a protocol table (onset + 1
        # and 6 years of 365.25 days, rounded: onset + 2191.5 rounds to the even day, so 2191 or 2192 days after an odd
        # or an even onset), from this run's diagnosis day, whichever rule gave it
        "hba1c_1y_from_diagnosis": at(hba1c, round(onset + DAYS_PER_YEAR)),
        "hba1c_6y_from_diagnosis": at(hba1c, round(onset + 6 * DAYS_PER_YEAR)),
        "fasting_1y_from_diagnosis_mg_dl": at(fasting, round(onset + DAYS_PER_YEAR)),
    }


def protocol_run(task: tuple) -> dict:
    """One enrolled, diagnosed patient under the UKPDS conventional arm's protocol from its diagnosis (a worker).

    ``task``: (sample, the sample's variable values, its diagnosis day, samples screened, follow-up years). The
    scenario is the sweep's own (``glucosim.sweep.screening.reference_scenario``: the control arm with the sample's
    values), lengthened to the diagnosis plus ``PROTOCOL_DAYS``, with ``diet_therapy_scenario`` from the diagnosis.
    """
    import glucosim
    from glucosim.calibration.course import diagnosis_day, diet_therapy_scenario
    from glucosim.physiology.indices import Par
    from glucosim.sweep.screening import reference_scenario

    sample, values, onset, samples, follow_up_years = task
    loaded = population_sweep(samples, follow_up_years)
    row: dict = {"sample": int(sample), "error": ""}
    try:
        scenario = reference_scenario(loaded, sample, values, "UKPDS population")
        # the diet (and the drift's stop) first, then the run lengthened: lengthened first, the control scenario's
        # drift would be checked over the whole longer run and refused for the fastest decliners
        protocol = diet_therapy_scenario(scenario, int(onset))
        protocol = glucosim.load_scenario(protocol, duration_days=int(onset) + PROTOCOL_DAYS + 1)
        daily = glucosim.simulate(protocol, progress=False).daily
    except Exception as exc:  # noqa: BLE001 - one patient's refusal is a row with its reason, as in a sweep
        raise_if_interrupted(exc)  # but a Ctrl-C stops the tool
        row["error"] = f"{type(exc).__name__}: {exc}"
        return row
    p = scenario.parameters
    row |= readings(daily, int(onset), float(p[Par.body_weight]), float(p[Par.height_cm]))
    # the protocol run repeats the control course up to the diagnosis: its own first 126-mg/dl day should agree
    row["protocol_run_diagnosis_day"] = float(diagnosis_day(daily) if diagnosis_day(daily) is not None else math.nan)
    return row


def quartiles(values) -> tuple[float, float, float]:
    """(median, 25th, 75th percentile) of the finite values; NaN for none."""
    finite = np.asarray(values, dtype=float)
    finite = finite[np.isfinite(finite)]
    if not finite.size:
        return math.nan, math.nan, math.nan
    q25, q50, q75 = np.percentile(finite, [25, 50, 75])
    return float(q50), float(q25), float(q75)


def share(mask) -> float:
    mask = np.asarray(mask, dtype=bool)
    return float(mask.mean()) if mask.size else math.nan


def summary(rows) -> dict[str, object]:
    """The population's medians (IQR) and shares, from the protocol rows (a DataFrame of ``readings`` columns)."""
    out: dict[str, object] = {"n": len(rows)}
    for name in ("hba1c_1y", "hba1c_6y", "fasting_1y_mg_dl", "fasting_6y_mg_dl"):
        out[name] = quartiles(rows[name])
    for when in ("1y", "6y"):
        hba1c = rows[f"hba1c_{when}"].to_numpy(float)
        out[f"remission_{when}"] = share(hba1c < REMISSION_HBA1C)
        out[f"remission_consensus_{when}"] = share(hba1c < REMISSION_HBA1C_CONSENSUS)
        out[f"failure_{when}"] = share(hba1c >= FAILURE_HBA1C)
    out["rescue"] = share(
        rows["max_fasting_after_entry_mg_dl"].to_numpy(float) > RESCUE_FASTING_MMOL_L * MG_DL_PER_MMOL_L
    )
    return out


def mmol(mg_dl: float) -> float:
    return mg_dl / MG_DL_PER_MMOL_L


def _q(values: tuple[float, float, float], digits: int = 2, scale=lambda x: x) -> str:
    median, low, high = (scale(v) for v in values)
    return f"{median:.{digits}f} ({low:.{digits}f}-{high:.{digits}f})"


def report_lines(all_rows, entered) -> list[str]:
    """The markdown tables: the population with and without UKPDS's entry criterion against UKPDS 16."""
    groups = {"all diagnosed": summary(all_rows), "randomised (entry criterion met)": summary(entered)}
    lines = [
        "| quantity (years after randomisation) | UKPDS 16 median (validation range) | "
        + " | ".join(f"{name}, n = {g['n']}: median (IQR)" for name, g in groups.items())
        + " |",
        "|---|---|" + "---|" * len(groups),
    ]
    one_year, six_years = course_target("hba1c_1y_after_diagnosis"), course_target("hba1c_6y_after_diagnosis")
    for key, label, published in (
        ("hba1c_1y", "HbA1c at 1 year, %", f"{one_year.published} ({one_year.low}-{one_year.high})"),
        ("hba1c_6y", "HbA1c at 6 years, %", f"{six_years.published} ({six_years.low:g}-{six_years.high:g})"),
    ):
        lines.append(f"| {label} | {published} | " + " | ".join(_q(g[key]) for g in groups.values()) + " |")
    for key, label, published in (
        ("fasting_1y_mg_dl", "fasting glucose at 1 year, mmol/l", UKPDS_16_FASTING_MMOL_L["fasting_1y_mmol_l"]),
        ("fasting_6y_mg_dl", "fasting glucose at 6 years, mmol/l", UKPDS_16_FASTING_MMOL_L["fasting_6y_mmol_l"]),
    ):
        lines.append(f"| {label} | {published} | " + " | ".join(_q(g[key], 1, mmol) for g in groups.values()) + " |")
    rise = {
        name: g["fasting_6y_mg_dl"][0] - g["fasting_1y_mg_dl"][0]  # type: ignore[index]
        for name, g in groups.items()
    }
    fasting = UKPDS_16_FASTING_MMOL_L
    published_rise = (fasting["fasting_6y_mmol_l"] - fasting["fasting_1y_mmol_l"]) * MG_DL_PER_MMOL_L
    rise_target = course_target("fasting_glucose_rise_after_diagnosis")
    lines.append(
        f"| rise of the median fasting glucose 1 -> 6 years, mg/dl | {published_rise:.1f} "
        f"({rise_target.low:g}-{rise_target.high:g}) | " + " | ".join(f"{value:.1f}" for value in rise.values()) + " |"
    )
    for key, label in (
        ("remission", f"HbA1c < {REMISSION_HBA1C:g} % (remission) at 1 / 6 years"),
        ("remission_consensus", f"HbA1c < {REMISSION_HBA1C_CONSENSUS:g} % at 1 / 6 years"),
        ("failure", f"HbA1c >= {FAILURE_HBA1C:g} % (diet failing) at 1 / 6 years"),
    ):
        lines.append(
            f"| {label} | - | "
            + " | ".join(f"{g[f'{key}_1y']:.0%} / {g[f'{key}_6y']:.0%}" for g in groups.values())
            + " |"
        )
    lines.append(
        f"| fasting glucose (30-day mean) above {RESCUE_FASTING_MMOL_L:g} mmol/l at some time after randomisation "
        "(UKPDS added drugs) | - | " + " | ".join(f"{g['rescue']:.0%}" for g in groups.values()) + " |"
    )
    return lines


def baseline_lines(rows) -> list[str]:
    lines = ["| at diagnosis (all diagnosed) | median (IQR) |", "|---|---|"]
    lines.append(
        f"| fasting glucose (30-day mean), mmol/l | {_q(quartiles(rows['fasting_at_diagnosis_mg_dl']), 2, mmol)} |"
    )
    lines.append(f"| HbA1c, % | {_q(quartiles(rows['hba1c_at_diagnosis']))} |")
    lines.append(f"| weight, kg | {_q(quartiles(rows['weight_at_diagnosis_kg']), 1)} |")
    lines.append(f"| BMI at the model's height, kg/m2 | {_q(quartiles(rows['bmi_at_diagnosis']), 1)} |")
    lines.append(f"| years from enrolment to diagnosis | {_q(quartiles(rows['diagnosis_day'] / DAYS_PER_YEAR), 2)} |")
    lines.append(
        f"| fasting glucose 3 months later (entry), mmol/l | {_q(quartiles(rows['fasting_at_entry_mg_dl']), 2, mmol)} |"
    )
    lines.append(f"| HbA1c 3 months later (entry), % | {_q(quartiles(rows['hba1c_at_entry']))} |")
    return lines


def from_diagnosis_lines(rows) -> list[str]:
    return [
        "| counted from the diagnosis (course_measures without a protocol table) | median (IQR) |",
        "|---|---|",
        f"| HbA1c 1 year after diagnosis, % | {_q(quartiles(rows['hba1c_1y_from_diagnosis']))} |",
        f"| HbA1c 6 years after diagnosis, % | {_q(quartiles(rows['hba1c_6y_from_diagnosis']))} |",
        "| fasting glucose 1 year after diagnosis, mg/dl"
        f" | {_q(quartiles(rows['fasting_1y_from_diagnosis_mg_dl']), 1)} |",
    ]


def cpu_seconds() -> float:
    """CPU time (user + system) of this process and every process it started: the reaped ones
    (``RUSAGE_CHILDREN``) and those still alive with what they reaped (the sweep's fork server, whose children are
    the workers of both stages: psutil's ``children_*`` times)."""
    import psutil

    reaped = resource.getrusage(resource.RUSAGE_CHILDREN)
    total = time.process_time() + reaped.ru_utime + reaped.ru_stime
    for child in psutil.Process().children(recursive=False):
        try:
            t = child.cpu_times()
        except psutil.Error:  # ended meanwhile: counted as reaped, or lost (a few ms)
            continue
        total += t.user + t.system + t.children_user + t.children_system
    return total


def main(argv: list[str] | None = None) -> int:
    import pandas as pd

    from glucosim.analysis.sweep.dpp import load_trial_results, require_finished
    from glucosim.sweep.backends import LocalPool
    from glucosim.sweep.runner import run_sweep
    from glucosim.sweep.store import SweepStore

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", default="results/ukpds_population", help="results folder (resumes the sweep stage)")
    parser.add_argument("--screened", type=int, default=SCREENED, help="patients screened")
    parser.add_argument("--follow-up-years", type=float, default=FOLLOW_UP_YEARS, help="control follow-up")
    parser.add_argument("--workers", type=int, default=2, help="worker processes (at most 2 on the shared machine)")
    parser.add_argument(
        "--diagnosis",
        choices=("fasting126", "clinic"),
        default="fasting126",
        help="the diagnosis day: the first day the daily fasting glucose reaches 126 mg/dl (the design's), or the"
        " virtual DPP clinic's confirmed diagnosis (the secondary analysis declared with it)",
    )
    args = parser.parse_args(argv)
    if args.workers < 1:
        parser.error(f"argument --workers: {args.workers} is not at least 1")
    started_wall = time.perf_counter()
    out = Path(args.out)
    loaded = population_sweep(args.screened, args.follow_up_years)
    sweep_dir = out / "sweep"
    print(f"stage 1: screening {args.screened} and following the enrolled ({sweep_dir})", file=sys.stderr, flush=True)
    run_sweep(loaded, sweep_dir, workers=args.workers, confirm_large=True, progress=True)
    require_finished(sweep_dir)  # another process sharing the folder may still be running its part
    results = load_trial_results(sweep_dir, loaded)
    enrolled = results[results["clinic_enrolled"].astype(bool)].sort_values("sample")
    daily = SweepStore(sweep_dir).load_daily()
    onsets = diagnosis_days(daily[daily["run_id"].isin(enrolled["run_id"])])
    if args.diagnosis == "fasting126":
        enrolled = enrolled.assign(diagnosis_day=[onsets.get(int(r)) for r in enrolled["run_id"]])
    else:  # the clinic's confirmed diagnosis (its first elevated visit's day)
        enrolled = enrolled.assign(diagnosis_day=enrolled["clinic_diagnosis_day"])
    both = int(
        (
            enrolled["clinic_diagnosis_day"].notna() & enrolled["run_id"].map(lambda r: onsets.get(int(r)) is not None)
        ).sum()
    )
    diagnosed = enrolled[enrolled["diagnosis_day"].notna()]
    shipped_samples = int(tomllib.loads(SWEEP.read_text())["design"]["samples"])
    shipped = enrolled[enrolled["sample"] < shipped_samples]
    print(
        f"\nScreened {args.screened}, enrolled {len(enrolled)} ({len(enrolled) / args.screened:.1%}). Within"
        f" {args.follow_up_years:g} years: daily fasting glucose >= 126 mg/dl in"
        f" {sum(onsets.get(int(r)) is not None for r in enrolled['run_id'])}, the clinic's confirmed diagnosis in"
        f" {int(enrolled['clinic_diagnosis_day'].notna().sum())}, both in {both}. Diagnosis rule used:"
        f" {args.diagnosis} ({len(diagnosed)} diagnosed; {int((diagnosed['diagnosis_day'] == 0).sum())} on day 0)."
        f" The shipped sweep's {shipped_samples} among them: {len(shipped)} enrolled,"
        f" {int(shipped['clinic_diagnosis_day'].notna().sum())} confirmed onsets."
    )
    names = list(loaded.variable_names)
    tasks = [
        (
            int(r["sample"]),
            {n: float(r[n]) for n in names},
            int(r["diagnosis_day"]),
            args.screened,
            args.follow_up_years,
        )
        for _, r in diagnosed.iterrows()
    ]
    print(f"stage 2: {len(tasks)} protocol runs on {args.workers} worker(s)", file=sys.stderr, flush=True)
    rows = []
    with LocalPool(args.workers) as pool:  # the sweep's own local workers (forked from its fork server)
        for k, row in enumerate(pool.executor().map(protocol_run, tasks, chunksize=4), start=1):
            rows.append(row)
            if k % 20 == 0 or k == len(tasks):
                print(f"  {k} of {len(tasks)} protocol runs", file=sys.stderr, flush=True)
    table = pd.DataFrame(rows)
    patients_file = out / f"patients_{args.diagnosis}.csv"
    table.to_csv(patients_file, index=False)
    failed = table[table["error"] != ""]
    ok = table[table["error"] == ""].copy()
    mismatch = int((ok["protocol_run_diagnosis_day"] != ok["diagnosis_day"]).sum())
    ok["entered"] = [meets_entry(x) for x in ok["fasting_at_entry_mg_dl"]]
    low, high = entry_fasting_mg_dl()
    below = int((ok["fasting_at_entry_mg_dl"] < low).sum())
    above = int((ok["fasting_at_entry_mg_dl"] > high).sum())
    print(
        f"Protocol runs: {len(ok)} ({len(failed)} refused"
        f"{': ' + '; '.join(failed['error'].head(3)) if len(failed) else ''});"
        f" the protocol run's own diagnosis day differs from the follow-up's in {mismatch}."
    )
    print(
        f"UKPDS entry (30-day mean fasting glucose 3 months after diagnosis in {low:.0f}-{high:.0f} mg/dl):"
        f" {int(ok['entered'].sum())} of {len(ok)} randomised; excluded {1 - ok['entered'].mean():.0%}"
        f" ({below} below, {above} above)\n"
    )
    print("\n".join(report_lines(ok, ok[ok["entered"]])))
    print()
    print("\n".join(baseline_lines(ok)))
    print()
    print("\n".join(from_diagnosis_lines(ok)))
    print(
        f"\nCPU time {cpu_seconds():.0f} s (this process and its workers; wall"
        f" {time.perf_counter() - started_wall:.0f} s; load {' '.join(f'{x:.1f}' for x in os.getloadavg())})."
        f" Per patient: {patients_file}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
