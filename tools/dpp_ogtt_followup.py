"""The DPP in silico with the DPP's own follow-up: the annual 75-g OGTT instead of HbA1c (a diagnostic).

    PYTHONPATH=src python -m glucosim.cli sweep scenarios/sweeps/prediabetes_lifestyle.toml --out R --workers 2
    PYTHONPATH=src python tools/dpp_ogtt_followup.py R [--landing] [--first N] [--csv FILE]

What it measures. The shipped sweep's virtual DPP clinic (``glucosim.analysis.sweep.clinic``) diagnoses
diabetes by a fasting glucose >= 126 mg/dl every 6 months or, yearly, an HbA1c >= 6.5 %, each confirmed by the
same test 42 days later: HbA1c stands in for the annual OGTT because the sweep's runs keep no state after day 0.
The DPP (Knowler 2002, NEJM 346:393) diagnosed by the semi-annual fasting glucose >= 126 mg/dl or the annual
OGTT's 2-h glucose >= 200 mg/dl, each confirmed by a repeat test. Here every patient the sweep enrolled is
simulated again in each arm, with the same scenario the sweep worker built (the results' variable values, the
sweep file's arms; ``runs_sha256`` of the file must be the manifest's), keeping the midnight states of the yearly
visits (days 365, 730, 1095) and of their confirmations 42 days later (407, 772; year 3's is clipped to the run's
last day, 1095, as the clinic clips its confirmation fasting glucose). The shipped ``ogtt_75g`` protocol is run
on each (``clinic.runner.run_protocol``, the screening's test) and the true 2-h glucose kept. Three rules are then
applied to the same noisy tests:

- "HbA1c (shipped)": the clinic's present rule (fasting glucose or HbA1c), recomputed here; it must give the
  shipped table: each run's diagnosis and return-to-normal days are compared with the results' and with
  ``clinic.clinic_course`` on the rerun's daily values, and the rerun's daily fasting glucose and HbA1c with the
  sweep's stored daily table (all printed);
- "OGTT (DPP)": fasting glucose every 6 months or the yearly OGTT's 2-h glucose, each confirmed, no HbA1c;
  return to normal at a yearly visit before any diagnosis: fasting glucose < 100 and 2-h glucose < 140 mg/dl
  (Perreault 2012, the clinic's docstring);
- "all three": fasting glucose, HbA1c or 2-h glucose (the union; a bound, not a protocol).

The tests' variability is the clinic's (``ClinicSettings``: fasting glucose CV 5.7 %, HbA1c 3.6 %, 2-h glucose
12.7 %, seed ``CLINIC_SEED``). Fasting glucose and HbA1c use the clinic's draws (``visit_draws``: columns 0/1
fasting visit/confirmation, 2/3 HbA1c), so the HbA1c rule is the clinic's test for test; the follow-up 2-h glucose
has a stream of its own per patient, ``default_rng((seed, sample, 3))`` (one row per visit: visit, confirmation;
the screening's 2-h glucose uses stream 2; the same stream tools/dpp_diagnosis.py ``protocol`` used), the same
draws in both arms. Incidence, person-years, intervals, the reduction and the return to normal are
``glucosim.analysis.sweep.dpp.trial_table`` on the results with the clinic's diagnosis and return-to-normal days
replaced by each rule's.

The states. By default the visit states are kept with ``simulate(state_days=...)`` only, so the run is the sweep
worker's bit for bit (its daily table equals the stored one); under envelope following a visit day that was not
simulated gets the state interpolated as its daily row is. ``--landing`` also passes the visit days as
``landing_days`` (the convention of ``glucosim.clinic.visits``: visit states simulated, never interpolated), which
moves the envelope's path, so the daily values differ from the sweep's (up to 1.67 mg/dl of fasting glucose over the
244 runs); both were run, with the same table (below).

Measured on 2026-12-04 (worktree dppogtt off main f26a166; sweep rerun here: 122 of 3500 enrolled, shipped
table control 35 onsets, 10.6 per 100 py, lifestyle 5, 1.4, reduction 87 %, 67 to 95):

    rule / arm        onsets  person-years  per 100 py (95 % CI)  reduction % (95 % CI)  return to normal
    HbA1c (shipped)
      control           35      329.5         10.6 (7.4-14.8)       -                      25 (20 %), 8.3 per 100 py
      lifestyle          5      366.1          1.4 (0.4-3.2)        87 (67 to 95)          92 (75 %), 44.2
    OGTT (DPP)
      control           29      341.5          8.5 (5.7-12.2)       -                      36 (30 %), 12.1
      lifestyle          2      366.1          0.5 (0.1-2.0)        94 (73 to 98)          97 (80 %), 47.6
    all three
      control           35      329.5         10.6 (7.4-14.8)       -                      36 (30 %), 12.6
      lifestyle          5      366.1          1.4 (0.4-3.2)        87 (67 to 95)          97 (80 %), 47.6

    Onsets by the criteria confirmed at the diagnosis visit: HbA1c rule, control HbA1c 17, fasting + HbA1c 14,
    fasting 4 (3 at half-year visits), lifestyle HbA1c 3, fasting + HbA1c 2; OGTT rule, control fasting 19 (9 at
    half-year visits), fasting + 2-h 8, 2-h 2, lifestyle fasting 2; all three, control as the HbA1c rule's 35
    (6 of them also by the 2-h glucose), lifestyle as the HbA1c rule's 5.

    The check: the HbA1c rule recomputed here gives every run's diagnosis and return-to-normal day of the
    sweep's results (0 of 244 runs differ) and the shipped table; the rerun's daily values equal the stored ones
    (max difference 0). With ``--landing`` the daily values differ by up to 1.67 mg/dl of fasting glucose and
    0.011 % of HbA1c, and every number of the table above is the same.

    True 2-h glucose of the yearly OGTT, median (IQR), mg/dl; in brackets how many of 122 are >= 200:
    control 140.3 (130.5-151.1) [4], 141.0 (131.4-162.4) [12], 143.7 (131.7-195.9) [29] at years 1, 2, 3;
    lifestyle 121.8 (115.1-129.2) [0], 125.1 (117.0-132.8) [0], 127.4 (119.2-135.5) [1]. On day 0 the
    enrolled's true 2-h glucose was 135.7 (127.9-143.8), 78 of 122 below 140: the screening test (mean 152.6,
    every one 140-199 by the rule) admits them through its 12.7 % CV.

    By the DPP's rule the 2-h glucose is in 10 of the 29 control diagnoses (34 %; 2 alone); the DPP: 87 % of
    confirmed cases had triggered on the 2-h glucose (Christophi et al. 2013, J Diabetes Complications 27:150,
    abstract read: 772 participants triggered a confirmation OGTT, 101 by fasting glucose alone, 574 by the 2-h
    glucose alone, 97 by both; 47 % confirmed). The OGTT follow-up moves the reduction away from the DPP's 58 %
    (48-66), not toward it, and the control incidence below the DPP placebo's CI (9.8-12.3), a target the
    cohort was fitted to through the HbA1c clinic.

    Runtime: 56 s wall and 56 s CPU in one process on a 2-core machine (load ~1.6): the 244 runs' simulation
    50.4 s, their 1220 OGTTs 2.3 s.

Not changed: no model parameter, cohort, sweep file or src/ file; nothing tuned.
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from pathlib import Path

import numpy as np

from glucosim.analysis.markers import (
    FASTING_GLUCOSE_DIABETES_MG_DL,
    FASTING_GLUCOSE_PREDIABETES_MG_DL,
    HBA1C_DIABETES_PERCENT,
    HBA1C_PREDIABETES_PERCENT,
    TWO_HOUR_GLUCOSE_DIABETES_MG_DL,
    TWO_HOUR_GLUCOSE_PREDIABETES_MG_DL,
)
from glucosim.analysis.sweep.clinic import (
    CONFIRMATION_DAYS,
    HBA1C_EVERY_VISITS,
    SCREENING_OGTT_PROTOCOL,
    ClinicSettings,
    clinic_course,
    visit_days,
    visit_draws,
)
from glucosim.physiology.units import DAYS_PER_YEAR

SWEEP = Path(__file__).resolve().parents[1] / "scenarios" / "sweeps" / "prediabetes_lifestyle.toml"
TWO_HOUR_STREAM = 3
"""The follow-up 2-h glucose's random stream: ``default_rng((seed, sample, 3))`` (screening: 2)."""
RULES = {
    "HbA1c (shipped)": ("fasting", "HbA1c"),
    "OGTT (DPP)": ("fasting", "2-h"),
    "all three": ("fasting", "HbA1c", "2-h"),
}
"""Rule -> the criteria it diagnoses by (each confirmed 42 days later by the same test)."""
NORMAL_BY = {"HbA1c (shipped)": "HbA1c", "OGTT (DPP)": "2-h", "all three": "2-h"}
"""Rule -> the yearly test that joins a fasting glucose < 100 mg/dl in a return to normal regulation."""


def ogtt_days(n_days: int) -> list[int]:
    """The yearly visits (every ``HBA1C_EVERY_VISITS``-th visit of ``clinic.visit_days``) and their confirmation
    days, clipped to the run's last day as the clinic clips its confirmation tests."""
    yearly = [day for k, day in enumerate(visit_days(n_days)) if k > 0 and k % HBA1C_EVERY_VISITS == 0]
    return sorted({min(x, n_days - 1) for day in yearly for x in (day, day + CONFIRMATION_DAYS)})


def two_hour_draws(sample: int, n_visits: int, settings: ClinicSettings = ClinicSettings()) -> np.ndarray:
    """The follow-up 2-h glucose's standard-normal draws, one row per visit (visit, confirmation)."""
    return np.random.default_rng((settings.seed, int(sample), TWO_HOUR_STREAM)).standard_normal((n_visits, 2))


def diagnose(
    sample: int,
    fasting: np.ndarray,
    hba1c: np.ndarray,
    two_hour: dict[int, float],
    criteria: tuple[str, ...],
    normal_by: str,
    settings: ClinicSettings = ClinicSettings(),
) -> dict:
    """The clinic's follow-up of one run under a rule: diagnosis day, first return to normal, and what triggered.

    Args:
        fasting, hba1c: the run's true daily values, day 0 first.
        two_hour: day -> true 2-h glucose of the OGTT on that morning (yearly visits and confirmations).
        criteria: any of "fasting" (every visit), "HbA1c" and "2-h" (yearly visits).
        normal_by: "HbA1c" (< 5.7 %, the clinic's) or "2-h" (< 140 mg/dl, the DPP's) beside fasting glucose < 100.
    """
    n = len(fasting)
    days = visit_days(n)
    z = visit_draws(sample, len(days), settings)
    z2 = two_hour_draws(sample, len(days), settings)

    def at(values, day):
        return float(values[min(day, n - 1)])

    diagnosis_day = normal_day = math.nan
    trigger, half_year = "", False
    for k, day in enumerate(days[1:], start=1):
        yearly = k % HBA1C_EVERY_VISITS == 0
        confirm = min(day + CONFIRMATION_DAYS, n - 1)
        f_visit = at(fasting, day) * (1.0 + settings.fasting_glucose_cv * z[k, 0])
        f_confirm = at(fasting, confirm) * (1.0 + settings.fasting_glucose_cv * z[k, 1])
        hits = {
            "fasting": f_visit >= FASTING_GLUCOSE_DIABETES_MG_DL and f_confirm >= FASTING_GLUCOSE_DIABETES_MG_DL,
        }
        a_visit = a_confirm = t_visit = t_confirm = math.nan
        if yearly:
            a_visit = at(hba1c, day) * (1.0 + settings.hba1c_cv * z[k, 2])
            a_confirm = at(hba1c, confirm) * (1.0 + settings.hba1c_cv * z[k, 3])
            hits["HbA1c"] = a_visit >= HBA1C_DIABETES_PERCENT and a_confirm >= HBA1C_DIABETES_PERCENT
            if "2-h" in criteria or normal_by == "2-h":
                t_visit = two_hour[day] * (1.0 + settings.two_hour_glucose_cv * z2[k, 0])
                t_confirm = two_hour[confirm] * (1.0 + settings.two_hour_glucose_cv * z2[k, 1])
                hits["2-h"] = (
                    t_visit >= TWO_HOUR_GLUCOSE_DIABETES_MG_DL and t_confirm >= TWO_HOUR_GLUCOSE_DIABETES_MG_DL
                )
        found = [name for name in criteria if hits.get(name, False)]
        if found:
            diagnosis_day, trigger, half_year = float(day), "+".join(found), not yearly
            break
        if yearly and math.isnan(normal_day) and f_visit < FASTING_GLUCOSE_PREDIABETES_MG_DL:
            second = (
                a_visit < HBA1C_PREDIABETES_PERCENT
                if normal_by == "HbA1c"
                else t_visit < TWO_HOUR_GLUCOSE_PREDIABETES_MG_DL
            )
            if second:
                normal_day = float(day)
    return {"diagnosis_day": diagnosis_day, "normal_day": normal_day, "trigger": trigger, "half_year": half_year}


def load(results_dir: str, sweep_file: Path):
    """(loaded sweep, results with the clinic's columns, stored daily table) of a finished sweep whose file is
    ``sweep_file`` unchanged (the same runs: ``runs_sha256``)."""
    from glucosim.analysis.sweep.dpp import load_trial_results, require_finished
    from glucosim.errors import SweepError
    from glucosim.sweep.load import load_sweep
    from glucosim.sweep.store import SweepStore, runs_sha256

    require_finished(results_dir)
    store = SweepStore(results_dir)
    loaded = load_sweep(str(sweep_file))
    if runs_sha256(loaded) != (store.manifest() or {}).get("runs_sha256"):
        raise SweepError(f"{results_dir} was not run from {sweep_file} as it is now (runs_sha256 differs)")
    return loaded, load_trial_results(results_dir, loaded), store.load_daily()


def follow(loaded, row, landing: bool) -> dict:
    """One run again (the worker's scenario: the arm and the run's variable values), with its yearly OGTTs."""
    from glucosim.clinic.runner import run_protocol
    from glucosim.scenario.load import parse_scenario
    from glucosim.simulation.run import simulate
    from glucosim.sweep.scenario_edit import run_scenario_data

    arm = next(a for a in loaded.sweep.arms if a.name == row["arm"])
    values = {name: float(row[name]) for name in loaded.variable_names}
    source = f"{loaded.source} (run {int(row['run_id'])}, arm '{arm.name}', tools/dpp_ogtt_followup.py)"
    scenario = parse_scenario(run_scenario_data(loaded, arm, values), source=source)
    days = tuple(ogtt_days(scenario.scenario.n_days))
    started = time.process_time()
    result = simulate(scenario, progress=False, state_days=days, landing_days=days if landing else ())
    simulated = time.process_time()
    two_hour = {
        day: float(
            run_protocol(SCREENING_OGTT_PROTOCOL, scenario, day=day, state=result.midnight_states[day]).indices[
                "two_hour_glucose_mg_dl"
            ]
        )
        for day in days
    }
    return {
        "simulate_cpu_s": simulated - started,
        "ogtt_cpu_s": time.process_time() - simulated,
        "fasting": result.daily["fasting_glucose_mg_dl"].to_numpy(float),
        "hba1c": result.daily["hba1c_percent"].to_numpy(float),
        "two_hour": two_hour,
    }


def rule_table(results, enrolled: set[int], outcomes: dict[int, dict], reference: str):
    """``dpp.trial_table`` of the results with the clinic's diagnosis and return-to-normal days replaced by a
    rule's (run_id -> ``diagnose`` output); only ``enrolled`` samples count."""
    from glucosim.analysis.sweep.dpp import trial_table

    frame = results.copy()
    frame["clinic_enrolled"] = frame["sample"].isin(enrolled) & frame["clinic_enrolled"].astype(bool)
    frame["clinic_diagnosis_day"] = frame["run_id"].map(
        lambda r: outcomes.get(int(r), {}).get("diagnosis_day", math.nan)
    )
    frame["clinic_normal_day"] = frame["run_id"].map(lambda r: outcomes.get(int(r), {}).get("normal_day", math.nan))
    return trial_table(frame, reference)


def _f(value: float, digits: int = 1) -> str:
    return "-" if value is None or not math.isfinite(value) else f"{value:.{digits}f}"


def report(results, enrolled, runs, outcomes, reference, closing_day) -> list[str]:
    """The tables and distributions, as Markdown lines."""
    lines = [
        "| rule | arm | enrolled | onsets | person-years | incidence per 100 py (95 % CI) "
        "| reduction % (95 % CI) | return to normal: n (share), per 100 py | onsets by criterion |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for rule in RULES:
        table = rule_table(results, enrolled, outcomes[rule], reference)
        for row in table.to_dict("records"):
            arm_runs = [r for r in runs if runs[r]["arm"] == row["arm"]]
            counts: dict[str, int] = {}
            for run_id in arm_runs:
                out = outcomes[rule][run_id]
                if out["trigger"] and out["diagnosis_day"] <= closing_day:
                    key = out["trigger"] + (" (half-year)" if out["half_year"] else "")
                    counts[key] = counts.get(key, 0) + 1
            by = ", ".join(f"{k} {v}" for k, v in sorted(counts.items(), key=lambda kv: -kv[1])) or "-"
            reduction = (
                "-"
                if not math.isfinite(row["relative_reduction_percent"])
                else f"{row['relative_reduction_percent']:.0f} ({_f(row['reduction_ci_low'], 0)} to "
                f"{_f(row['reduction_ci_high'], 0)})"
            )
            lines.append(
                f"| {rule} | {row['arm']} | {row['enrolled']} | {row['diabetes_onsets']} | {row['person_years']:.1f} "
                f"| {row['incidence_per_100py']:.1f} ({row['incidence_ci_low']:.1f}-{row['incidence_ci_high']:.1f}) "
                f"| {reduction} | {row['returns_to_normal']} ({row['returned_to_normal_share']:.0%}), "
                f"{_f(row['return_to_normal_per_100py'])} | {by} |"
            )
    lines += ["", "True 2-h glucose of the yearly OGTT (all enrolled, diagnosed or not; mg/dl):", ""]
    lines += [
        "| arm | year | median (IQR) | >= 200 | < 140 | true fasting glucose median (IQR) |",
        "|---|---|---|---|---|---|",
    ]
    for arm in dict.fromkeys(run["arm"] for run in runs.values()):
        arm_runs = [run for run in runs.values() if run["arm"] == arm]
        yearly = [
            d for k, d in enumerate(visit_days(len(arm_runs[0]["fasting"]))) if k > 0 and k % HBA1C_EVERY_VISITS == 0
        ]
        for day in yearly:
            values = np.array([run["two_hour"][day] for run in arm_runs])
            fasting = np.array([run["fasting"][day] for run in arm_runs])
            q = np.percentile(values, [25, 50, 75])
            qf = np.percentile(fasting, [25, 50, 75])
            lines.append(
                f"| {arm} | {round(day / DAYS_PER_YEAR)} (day {day}) | {q[1]:.1f} ({q[0]:.1f}-{q[2]:.1f}) "
                f"| {int((values >= TWO_HOUR_GLUCOSE_DIABETES_MG_DL).sum())} of {len(values)} "
                f"| {int((values < TWO_HOUR_GLUCOSE_PREDIABETES_MG_DL).sum())} "
                f"| {qf[1]:.1f} ({qf[0]:.1f}-{qf[2]:.1f}) |"
            )
    return lines


def main(argv: list[str] | None = None) -> int:
    from glucosim.analysis.sweep.dpp import FOLLOW_UP_YEARS, closing_visit_day
    from glucosim.sweep.store import SweepStore

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("results", help="a finished run of the prevention sweep (its results folder)")
    parser.add_argument("--sweep", type=Path, default=SWEEP, help="the sweep file it was run from (unchanged)")
    parser.add_argument("--landing", action="store_true", help="simulate the visit states (landing_days)")
    parser.add_argument("--first", type=int, default=None, help="only the first N enrolled (by sample)")
    parser.add_argument("--csv", type=Path, default=None, help="write one row per run and rule here")
    args = parser.parse_args(argv)
    started_wall, started_cpu = time.perf_counter(), time.process_time()

    loaded, results, daily = load(args.results, args.sweep)
    reference = loaded.sweep.arms[0].name
    ref = results[results["arm"] == reference]
    enrolled = sorted(int(s) for s in ref.loc[ref["clinic_enrolled"].astype(bool), "sample"])
    if args.first is not None:
        enrolled = enrolled[: args.first]
    chosen = results[results["sample"].isin(enrolled)].sort_values(["sample", "run_id"])
    stored = {int(r): g.sort_values("day") for r, g in daily[daily["run_id"].isin(chosen["run_id"])].groupby("run_id")}

    runs: dict[int, dict] = {}
    for k, row in enumerate(chosen.to_dict("records"), start=1):
        runs[int(row["run_id"])] = {
            "arm": row["arm"],
            "sample": int(row["sample"]),
            **follow(loaded, row, args.landing),
        }
        if k % 40 == 0 or k == len(chosen):
            print(
                f"  {k} of {len(chosen)} runs, {time.perf_counter() - started_wall:.0f} s", file=sys.stderr, flush=True
            )

    outcomes = {
        rule: {
            run_id: diagnose(run["sample"], run["fasting"], run["hba1c"], run["two_hour"], criteria, NORMAL_BY[rule])
            for run_id, run in runs.items()
        }
        for rule, criteria in RULES.items()
    }

    # the check: the HbA1c rule recomputed here is the shipped clinic's, on the sweep's own runs
    shipped = chosen.set_index("run_id")
    differ_results = differ_clinic = 0
    daily_fasting = daily_hba1c = 0.0
    for run_id, run in runs.items():
        mine = outcomes["HbA1c (shipped)"][run_id]
        theirs = clinic_course(run["sample"], run["fasting"], run["hba1c"])
        for key in ("diagnosis_day", "normal_day"):
            a, b, c = mine[key], float(shipped.at[run_id, f"clinic_{key}"]), theirs[key]
            differ_results += not (a == b or (math.isnan(a) and math.isnan(b)))
            differ_clinic += not (a == c or (math.isnan(a) and math.isnan(c)))
        old = stored[run_id]
        daily_fasting = max(
            daily_fasting, float(np.max(np.abs(run["fasting"] - old["fasting_glucose_mg_dl"].to_numpy())))
        )
        daily_hba1c = max(daily_hba1c, float(np.max(np.abs(run["hba1c"] - old["hba1c_percent"].to_numpy()))))

    closing = closing_visit_day(FOLLOW_UP_YEARS)
    print(
        f"Enrolled: {len(enrolled)} (both arms rerun, {len(runs)} runs; visit states "
        f"{'simulated (landing_days)' if args.landing else 'as the sweep run has them (state_days only)'})"
    )
    print(
        f"Check, HbA1c rule: {differ_results} diagnosis/return-to-normal days differ from the sweep results', "
        f"{differ_clinic} from clinic.clinic_course on the rerun; rerun daily vs stored: max |diff| fasting glucose "
        f"{daily_fasting:.3g} mg/dl, HbA1c {daily_hba1c:.3g} %\n"
    )
    print("\n".join(report(results, set(enrolled), runs, outcomes, reference, closing)))
    screening = SweepStore(args.results).load_screening()
    if screening is not None:
        day0 = screening[screening["sample"].isin(enrolled)]
        true0 = day0["two_hour_glucose_mg_dl"].to_numpy(float)
        q = np.percentile(true0, [25, 50, 75])
        qf = np.percentile(day0["fasting_glucose_mg_dl"].to_numpy(float), [25, 50, 75])
        print(
            f"| before either arm (screening day 0) | 0 | {q[1]:.1f} ({q[0]:.1f}-{q[2]:.1f}) "
            f"| {int((true0 >= TWO_HOUR_GLUCOSE_DIABETES_MG_DL).sum())} of {len(true0)} "
            f"| {int((true0 < TWO_HOUR_GLUCOSE_PREDIABETES_MG_DL).sum())} | {qf[1]:.1f} ({qf[0]:.1f}-{qf[2]:.1f}) |"
        )
        print(
            f"\nDay 0: the screening's 2-h test (true value x (1 + 0.127 z), enrolled only at 140-199) had mean "
            f"{day0['screen_two_hour_glucose_mg_dl'].mean():.1f} mg/dl; the true 2-h glucose of the same patients "
            f"{np.mean(true0):.1f}."
        )
    wall, cpu = time.perf_counter() - started_wall, time.process_time() - started_cpu
    simulate_cpu = sum(run["simulate_cpu_s"] for run in runs.values())
    ogtt_cpu = sum(run["ogtt_cpu_s"] for run in runs.values())
    print(
        f"\nRuntime: {wall:.0f} s wall, {cpu:.0f} s CPU (one process); of it the {len(runs)} runs' simulation "
        f"{simulate_cpu:.1f} s and their {sum(len(r['two_hour']) for r in runs.values())} OGTTs {ogtt_cpu:.1f} s CPU"
    )

    if args.csv is not None:
        import pandas as pd

        rows = []
        for rule in RULES:
            for run_id, run in runs.items():
                rows.append(
                    {
                        "rule": rule,
                        "run_id": run_id,
                        "sample": run["sample"],
                        "arm": run["arm"],
                        **outcomes[rule][run_id],
                        **{f"two_hour_day{day}": value for day, value in run["two_hour"].items()},
                    }
                )
        pd.DataFrame(rows).to_csv(args.csv, index=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
