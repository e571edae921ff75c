"""Why the DPP lifestyle arm prevents most onsets in glucosim (87 %; DPP: 58 %, 48-66): diagnostics on the enrolled.

Issue 11's disagreement. Each diagnostic reruns patients of a finished prevention sweep one at a time, on the
model of this checkout, and prints a table; nothing here changes the model or the sweep. The patients are those
the virtual DPP clinic enrolled in the sweep's results (``glucosim.analysis.sweep.dpp.load_trial_results``);
their outcomes are recomputed on this checkout's model (the results directory supplies only the enrolled and,
for ``decompose``, the control converters).

    glucosim sweep scenarios/sweeps/prediabetes_lifestyle.toml --out R --workers 2
    python tools/dpp_diagnosis.py protocol R [--first N]    # candidate 1: the DPP's diagnosis by a yearly OGTT
    python tools/dpp_diagnosis.py dose R [--first N]        # how steeply a small weight loss lowers incidence
    python tools/dpp_diagnosis.py decompose R [--first N]   # what drives the control converters' onsets
    python tools/dpp_diagnosis.py decline R [--first N]     # candidate 2: a decline the programme cannot stop
    python tools/dpp_diagnosis.py course R [--first N]      # the converters' slow states in both arms
    python tools/dpp_diagnosis.py walk R [--first N]        # the walking without its weight loss
    python tools/dpp_diagnosis.py cap R [--first N]         # the enrolled's beta-cell function against its cap
    python tools/dpp_diagnosis.py sensing R [--first N] [--offsets own,10,20]   # with a glucose-sensing offset

``protocol``: the DPP diagnosed diabetes by a fasting glucose >= 126 mg/dl every 6 months (140 until the ADA's
1997 criteria) or a 2-h glucose >= 200 mg/dl on the yearly 75-g OGTT, each confirmed by a repeat test within
~6 weeks (Knowler 2002 NEJM 346:393); 87 % of confirmed cases triggered on the 2-h glucose (Christophi 2013,
J Diabetes Complications 27:150, abstract read). Since 2026-12-04 (late evening) the shipped sweep runs that OGTT
itself (``outputs.yearly_ogtt``) and its clinic (``glucosim.analysis.sweep.clinic``) diagnoses by the DPP's rule;
a sweep without it uses HbA1c >= 6.5 % in its place. Here each
patient is simulated with its states at the yearly visits and 42 days later kept, the shipped ``ogtt_75g``
protocol is run on them, and three rules are applied to the same noisy tests: the clinic without the yearly
OGTT (fasting glucose or HbA1c), the DPP's (fasting glucose or 2-h glucose; no HbA1c: the clinic's rule with
it, the same draws), and both. The 2-h glucose carries the
clinic's within-person CV (12.7 %), from its own random stream per patient (the same draws in every arm).

``dose``: the control arm with the lifestyle arm's calorie cut alone, every patient at one fixed diet adherence
(no walking, no regain): incidence against control as the weight lost grows. Hamman 2006 (Diabetes Care
29:2102, abstract read): within the DPP lifestyle arm, 16 % lower risk per kg lost (hazard ratio 0.42 per
5 kg), adjusted for diet and activity.

``decompose``: the control converters rerun with one beta-cell loss term switched off at a time (the
glucolipotoxic load, by its half-maximum moved to the top of its plausible range, 250 mg/dl: the load at a
mean glucose of 140 mg/dl falls from 0.67 to 2e-4; the demand-driven mass loss, ``beta_mass_workload_rate``
0), and with the drift of sensitivity off: which term carries the onsets (a term whose removal prevents an
onset is necessary for it).

``walk``: the lifestyle arm's walking alone, at full adherence, with the energy it burns eaten back (diet
adherence -1.3 and regain 55 kcal/day: +286 kcal/day in the core, +303 at maintenance; the table gives the
weight change that is left), with
and without its training effect (``training_gain`` 0): what the sessions do to incidence without the weight
they take off. Hamman 2006 (abstract): among the 495 lifestyle participants not at the weight goal at year 1,
those who met the activity goal had 44 % lower incidence.

``cap``: each enrolled patient's beta-cell function on day 30 of the control arm as a share of its reserve
(``beta_function_max``), and its 24-h mean glucose against its own set point (``compensation_setpoint``:
glucose_setpoint plus any ``glucose_sensing_offset``): function at its cap cannot back off when sensitivity rises,
so the gain goes into lower glucose (the validation case short_term_exercise_igt).

``sensing``: both arms of the enrolled as shipped and again with ``glucose_sensing_offset`` set: for each patient to
its own day-0 24-h mean glucose less glucose_setpoint (``own``, clipped to the parameter's range), a share of it
(``own*0.5``: beta cells that hold half their excess), or one offset for all (``--offsets``). With its own offset a
patient starts as shipped, at or just below its reserve (the adapted start solves against the warm-up's last day,
close to day 0's mean), but its beta cells hold that glucose, as a sensing defect's would (GCK-MODY's, Chakera
2015), instead of cells that would lower it if they could. A rise of sensitivity then lowers the mean glucose below
the patient's own set point and the function shrinks (over months), where at the healthy set point it stays at the
cap and the whole gain goes into lower glucose. Not a fit: the cohort is not refitted, so the control incidence
moves; the table gives both arms' fasting glucose (true values) at years 1 and 3 and the 2-h glucose of an OGTT on
the year-1 state beside the onsets, to set against the pooled lifestyle trials (Diabetes Care 2005 28:2780,
abstract: 2-h glucose -15 mg/dl at a year), the Finnish DPS (fasting -9 mg/dl at a year; Eriksson 1999, abstract)
and the DPP Outcomes Study's non-diabetic at its entry (lifestyle against placebo -1.3 mg/dl, PMC4338587 Table 1).
A second table gives the OGTT's fasting insulin and insulinogenic index (geometric means) at day 0 and at year 1 in
each arm: where the programme's gain goes, into glucose or into insulin. ``--offsets none``: the shipped row only.

``decline``: both arms of the enrolled with a yearly loss added to every patient's drift of whole-body
sensitivity (``--extra-drift``, comma-separated fractions a year). The drift goes on under the programme, so it
stands for any decline the programme cannot stop; for a patient whose beta-cell function sits at its reserve
(the enrolled's case) a loss of x %/year of secretory capacity moves glucose about as a loss of x %/year of
sensitivity does (glucose follows their product, the disposition index). Published rates of such a decline:
the disposition index falls ~0.7 %/year with age in normal glucose tolerance and ~1.4 (second phase) to 2.2
(first phase) %/year in IGT, with no independent effect of age on sensitivity (Diabetes Care 2008 31:539,
abstract read, first author Szoke from memory; cross-sectional, 130 IGT and 266 NGT, hyperglycaemic clamps).
Not a fit: the cohort is not refitted, so the control incidence moves too; the reduction is what to read.
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from pathlib import Path

import numpy as np

from glucosim.analysis.sweep.clinic import (
    FASTING_GLUCOSE_CV,
    HBA1C_CV,
    SCREENING_OGTT_PROTOCOL,
    TWO_HOUR_GLUCOSE_CV,
    clinic_course,
    visit_days,
)
from glucosim.analysis.sweep.dpp import (
    CORE_CURRICULUM_DAY,
    FOLLOW_UP_YEARS,
    events_and_person_years,
    load_trial_results,
    rate_per_100py,
    relative_reduction,
    require_finished,
)
from glucosim.physiology.units import DAYS_PER_YEAR
from glucosim.simulation.markers import (
    FASTING_GLUCOSE_DIABETES_MG_DL,
    HBA1C_DIABETES_PERCENT,
    TWO_HOUR_GLUCOSE_DIABETES_MG_DL,
)
from glucosim.sweep import visits
from glucosim.sweep.screening import ogtt_draws, visit_draws
from glucosim.sweep.visits import yearly_ogtt_days

SWEEP = Path(__file__).resolve().parents[1] / "scenarios" / "sweeps" / "prediabetes_lifestyle.toml"
HAMMAN_HAZARD_RATIO_PER_KG = 0.84
"""Hamman 2006 (Diabetes Care 29:2102, abstract): 16 % lower risk of diabetes per kg lost in the DPP lifestyle arm."""


class Patients:
    """The sweep, its design table and one patient's scenario for an arm, with optional edits."""

    def __init__(self, sweep_file: Path = SWEEP):
        from glucosim.sweep.load import load_sweep
        from glucosim.sweep.runner import design_table

        self.loaded = load_sweep(str(sweep_file))
        self.design = design_table(self.loaded)
        self.arms = {arm.name: arm for arm in self.loaded.sweep.arms}
        self.names = list(self.loaded.variable_names)

    def values(self, sample: int, arm: str) -> dict[str, float]:
        d = self.design
        row = d[(d["sample"] == sample) & (d["arm"] == arm)].iloc[0]
        return {name: float(row[name]) for name in self.names}

    def scenario(self, sample: int, arm: str, adherence: dict | None = None, parameters: dict | None = None):
        """The loaded scenario of ``sample`` in ``arm``; ``adherence`` replaces adherence draws (column -> value),
        ``parameters`` sets parameter-table entries of the subject."""
        from glucosim.scenario.load import parse_scenario
        from glucosim.sweep.scenario_edit import run_scenario_data

        values = {**self.values(sample, arm), **(adherence or {})}
        data = run_scenario_data(self.loaded, self.arms[arm], values)
        if parameters:
            data.setdefault("subject", {}).setdefault("parameters", {}).update(parameters)
        return parse_scenario(data, source=f"{self.loaded.source} (sample {sample}, {arm}, diagnosis)")


def enrolled_samples(results_dir: str, patients: Patients, first: int | None) -> tuple[list[int], list[int]]:
    """(enrolled samples, control converters) as the sweep's clinic saw them, in sample order."""
    require_finished(results_dir)  # a partial sweep would give fewer enrolled patients without a word
    results = load_trial_results(results_dir, patients.loaded)
    control = results[results["arm"] == "control"].sort_values("sample")
    enrolled = control[control["clinic_enrolled"]]
    converters = enrolled[enrolled["clinic_diagnosis_day"].notna()]
    samples = [int(s) for s in enrolled["sample"]]
    conv = [int(s) for s in converters["sample"]]
    if first is not None:
        samples, conv = samples[:first], conv[:first]
    return samples, conv


def screen_two_hour(patients: Patients, sample: int) -> float:
    """The true 2-h glucose of the eligibility visit's OGTT (day 0, control arm: before any intervention)."""
    from glucosim.clinic.runner import run_protocol

    return float(
        run_protocol(SCREENING_OGTT_PROTOCOL, patients.scenario(sample, "control"), day=0).indices[
            "two_hour_glucose_mg_dl"
        ]
    )


def dpp_rule(
    sample: int, fasting: np.ndarray, hba1c: np.ndarray, two_hour: dict[int, float], use_ogtt: bool, use_hba1c: bool
):
    """Diagnosis day and trigger under a clinic that tests fasting glucose every 6 months and, yearly, the OGTT's
    2-h glucose (``use_ogtt``) and/or HbA1c (``use_hba1c``); each criterion confirmed by the same test 42 days later.

    The fasting glucose and HbA1c draws are those of ``clinic.clinic_course`` (same seed, same columns), so the
    rule with HbA1c and without the OGTT reproduces the sweep clinic's diagnosis; the 2-h draws are a stream
    of their own (seed, sample, 3).
    """
    n = len(fasting)
    days = visit_days(n)
    z = visit_draws(sample, len(days))
    z2 = ogtt_draws(sample, len(days))
    for k, day in enumerate(days[1:], start=1):
        yearly = visits.is_yearly(k)
        confirm = visits.confirmation_day(day, n)
        high_fasting = (
            fasting[min(day, n - 1)] * (1 + FASTING_GLUCOSE_CV * z[k, 0]) >= FASTING_GLUCOSE_DIABETES_MG_DL
            and fasting[confirm] * (1 + FASTING_GLUCOSE_CV * z[k, 1]) >= FASTING_GLUCOSE_DIABETES_MG_DL
        )
        high_hba1c = (
            use_hba1c
            and yearly
            and hba1c[min(day, n - 1)] * (1 + HBA1C_CV * z[k, 2]) >= HBA1C_DIABETES_PERCENT
            and hba1c[confirm] * (1 + HBA1C_CV * z[k, 3]) >= HBA1C_DIABETES_PERCENT
        )
        high_two_hour = (
            use_ogtt
            and yearly
            and two_hour[min(day, n - 1)] * (1 + TWO_HOUR_GLUCOSE_CV * z2[k, 0]) >= TWO_HOUR_GLUCOSE_DIABETES_MG_DL
            and two_hour[confirm] * (1 + TWO_HOUR_GLUCOSE_CV * z2[k, 1]) >= TWO_HOUR_GLUCOSE_DIABETES_MG_DL
        )
        if high_fasting or high_hba1c or high_two_hour:
            names = [
                name for name, hit in (("fasting", high_fasting), ("hba1c", high_hba1c), ("2-h", high_two_hour)) if hit
            ]
            return float(day), "+".join(names) + ("" if yearly else " (half-year visit)")
    return math.nan, ""


def run_with_ogtts(patients: Patients, sample: int, arm: str, **edits):
    """Simulate ``sample`` in ``arm`` over the follow-up as the shipped sweep does (``simulate_for_clinic``):
    (daily table, {day: true 2-h glucose of the OGTT that morning}, (visit, repeat) array a year)."""
    result, yearly = simulate_for_clinic(patients.scenario(sample, arm, **edits))
    days = yearly_ogtt_days(len(result.daily))
    two_hour = {day: float(value) for pair, row in zip(days, yearly) for day, value in zip(pair, row)}
    return result.daily, two_hour, yearly


def simulate_for_clinic(scenario, state_days: tuple[int, ...] = ()):
    """``simulate`` as the shipped sweep's runs do (``outputs.yearly_ogtt``: the yearly OGTT days kept and landed
    on), and the yearly OGTTs' true 2-h glucose; (result, (visit, repeat) array a year). ``state_days``: more
    midnight states to keep."""
    from glucosim.simulation.run import simulate
    from glucosim.sweep.worker import yearly_ogtt_two_hour

    n_days = scenario.scenario.n_days
    days = visits.ogtt_days(n_days)
    result = simulate(
        scenario, progress=False, state_days=tuple(sorted(set(days) | set(state_days))), landing_days=days
    )
    return result, yearly_ogtt_two_hour(scenario, result, n_days)


def diagnosis_day(sample: int, daily, yearly_two_hour) -> float:
    """The shipped sweep clinic's diagnosis day (the DPP's rule, with the yearly OGTT) of one run."""
    fasting, hba1c = daily["fasting_glucose_mg_dl"].to_numpy(float), daily["hba1c_percent"].to_numpy(float)
    return clinic_course(sample, fasting, hba1c, yearly_two_hour_mg_dl=yearly_two_hour)["diagnosis_day"]


def incidence_row(days: list[float]) -> tuple[int, float, float]:
    events, person_years = events_and_person_years(np.array(days, dtype=float), FOLLOW_UP_YEARS)
    return events, person_years, rate_per_100py(events, person_years)


def protocol(args) -> int:
    patients = Patients()
    samples, _ = enrolled_samples(args.results, patients, args.first)
    rules = {
        "clinic without the yearly OGTT (fasting or HbA1c)": (False, True),
        "DPP (fasting or 2-h OGTT; the shipped sweep's clinic)": (True, False),
        "both": (True, True),
    }
    onsets = {arm: {rule: [] for rule in rules} for arm in ("control", "lifestyle")}
    triggers = {arm: {rule: {} for rule in rules} for arm in ("control", "lifestyle")}
    two_hour_by_year = {arm: {} for arm in ("control", "lifestyle")}
    fasting_by_year = {arm: {} for arm in ("control", "lifestyle")}
    sweep_clinic_check = 0
    year3 = {arm: {"fasting": [], "hba1c": [], "2-h": []} for arm in ("control", "lifestyle")}
    started = time.process_time()
    for i, sample in enumerate(samples):
        for arm in ("control", "lifestyle"):
            daily, two_hour, yearly = run_with_ogtts(patients, sample, arm)
            fasting = daily["fasting_glucose_mg_dl"].to_numpy(float)
            hba1c = daily["hba1c_percent"].to_numpy(float)
            for rule, (use_ogtt, use_hba1c) in rules.items():
                day, trigger = dpp_rule(sample, fasting, hba1c, two_hour, use_ogtt, use_hba1c)
                onsets[arm][rule].append(day)
                if trigger:
                    triggers[arm][rule][trigger] = triggers[arm][rule].get(trigger, 0) + 1
            # each rule here must reproduce the clinic's own diagnosis, with and without the yearly OGTT
            for rule, ogtt in (
                ("clinic without the yearly OGTT (fasting or HbA1c)", None),
                ("DPP (fasting or 2-h OGTT; the shipped sweep's clinic)", yearly),
            ):
                own = clinic_course(sample, fasting, hba1c, yearly_two_hour_mg_dl=ogtt)["diagnosis_day"]
                mine = onsets[arm][rule][-1]
                sweep_clinic_check += not ((math.isnan(own) and math.isnan(mine)) or own == mine)
            year3[arm]["fasting"].append(fasting[-1])
            year3[arm]["hba1c"].append(hba1c[-1])
            year3[arm]["2-h"].append(two_hour[max(d for d in two_hour if d % 365 < 30)])
            for day, value in two_hour.items():
                if (day % 365) < 30:  # the visit, not its confirmation
                    two_hour_by_year[arm].setdefault(round(day / DAYS_PER_YEAR), []).append(value)
                    fasting_by_year[arm].setdefault(round(day / DAYS_PER_YEAR), []).append(fasting[day])
        if (i + 1) % 10 == 0:
            print(
                f"  {i + 1} of {len(samples)} patients, {time.process_time() - started:.0f} s CPU",
                file=sys.stderr,
                flush=True,
            )
    print(f"Enrolled patients rerun: {len(samples)} (both arms; {time.process_time() - started:.0f} s CPU)")
    print(f"The clinic's two rules recomputed here against clinic.clinic_course: {sweep_clinic_check} disagreements\n")
    print(
        "| rule | control onsets | control per 100 py "
        "| lifestyle onsets | lifestyle per 100 py | reduction % (95 % CI) | triggers control / lifestyle |"
    )
    print("|---|---|---|---|---|---|---|")
    for rule in rules:
        ec, pc, ic = incidence_row(onsets["control"][rule])
        el, pl, il = incidence_row(onsets["lifestyle"][rule])
        red, low, high = relative_reduction(el, pl, ec, pc)
        trig = f"{triggers['control'][rule]} / {triggers['lifestyle'][rule]}"
        print(f"| {rule} | {ec} | {ic:.1f} | {el} | {il:.1f} | {red:.0f} ({low:.0f} to {high:.0f}) | {trig} |")
    print("\nTrue 2-h and fasting glucose at the yearly OGTT (mean of all enrolled, diagnosed or not, mg/dl):")
    for arm in ("control", "lifestyle"):
        parts = [
            f"year {y}: 2-h {np.mean(v):.1f} (>= 200: {sum(x >= 200 for x in v)} of {len(v)})"
            f", fasting {np.mean(fasting_by_year[arm][y]):.1f}"
            for y, v in sorted(two_hour_by_year[arm].items())
        ]
        print(f"- {arm}: " + "; ".join(parts))
    print("\nTrue values at year 3 (percentiles 50 / 75 / 90 / max over the enrolled):")
    for arm in year3:
        cells = [
            f"{name} " + " / ".join(f"{np.percentile(values, q):.3g}" for q in (50, 75, 90, 100))
            for name, values in year3[arm].items()
        ]
        print(f"- {arm}: " + "; ".join(cells))
    return 0


def dose(args) -> int:
    patients = Patients()
    samples, _ = enrolled_samples(args.results, patients, args.first)
    diets = [float(x) for x in args.diets.split(",")]
    started = time.process_time()
    control_days = []
    for sample in samples:
        daily, _, yearly = run_with_ogtts(patients, sample, "control")
        control_days.append(diagnosis_day(sample, daily, yearly))
    ec, pc, ic = incidence_row(control_days)
    print(f"Enrolled patients: {len(samples)}; control onsets {ec}, {ic:.1f} per 100 py (the sweep clinic's rule)")
    print(
        "\n| diet adherence (no walking, no regain) | mean weight change week 24 / year 3, kg"
        " | onsets | per 100 py | rate ratio | Hamman 2006: 0.84 per kg |"
    )
    print("|---|---|---|---|---|---|")
    for diet in diets:
        days, w24, w3 = [], [], []
        for sample in samples:
            adherence = {"lifestyle.diet": diet, "lifestyle.activity": 0.0, "lifestyle.regain": 0.0}
            result, yearly = simulate_for_clinic(patients.scenario(sample, "lifestyle", adherence=adherence))
            daily = result.daily
            days.append(diagnosis_day(sample, daily, yearly))
            w24.append(float(daily["weight_change_kg"].iloc[CORE_CURRICULUM_DAY]))
            w3.append(float(daily["weight_change_kg"].iloc[-1]))
        e, p, i = incidence_row(days)
        kg = -float(np.mean(w24 + w3))  # the mean of week 24 and year 3 (two lists joined)
        print(
            f"| {diet:g} | {np.mean(w24):.1f} / {np.mean(w3):.1f} | {e} | {i:.1f}"
            f" | {i / ic:.2f} | {HAMMAN_HAZARD_RATIO_PER_KG**kg:.2f} at {kg:.1f} kg |",
            flush=True,
        )
    print(f"\n{time.process_time() - started:.0f} s CPU")
    return 0


def decompose(args) -> int:
    patients = Patients()
    _, converters = enrolled_samples(args.results, patients, args.first)
    variants = {
        "control as drawn": ({}, None),
        "glucolipotoxic load ~off (glucotoxicity_threshold 250 mg/dl, its range's top)": (
            {"glucotoxicity_threshold": 250.0},
            None,
        ),
        "no demand-driven mass loss (beta_mass_workload_rate 0)": ({"beta_mass_workload_rate": 0.0}, None),
        "no drift of sensitivity": ({}, 0.0),
    }

    started = time.process_time()
    print(f"Control converters rerun: {len(converters)} (samples {converters})\n")
    print(
        "| control arm, as drawn but | onsets | fasting glucose y0 / y1 / y2 / y3"
        " | beta function / mass at y3 | sensitivity rel at y3 |"
    )
    print("|---|---|---|---|---|")
    for name, (parameters, drift) in variants.items():
        count, fasting, fn, mass, sens = 0, [], [], [], []
        for sample in converters:
            scenario_edit = {}
            if drift is not None:
                from glucosim.scenario.load import parse_scenario
                from glucosim.sweep.scenario_edit import run_scenario_data

                values = {**patients.values(sample, "control"), "routine.drift.whole_body_per_year": drift}
                data = run_scenario_data(patients.loaded, patients.arms["control"], values)
                scenario = parse_scenario(data, source="diagnosis")
            else:
                scenario = patients.scenario(sample, "control", parameters=parameters, **scenario_edit)
            result, yearly = simulate_for_clinic(scenario)
            daily = result.daily
            f = daily["fasting_glucose_mg_dl"].to_numpy(float)
            count += not math.isnan(diagnosis_day(sample, daily, yearly))
            fasting.append(f[[0, 365, 730, len(f) - 1]])
            fn.append(daily["beta_cell_function_rel"].iloc[-1])
            mass.append(daily["beta_cell_mass_rel"].iloc[-1])
            sens.append(daily["insulin_sensitivity_rel"].iloc[-1])
        fpg = " / ".join(f"{x:.1f}" for x in np.mean(fasting, axis=0))
        print(
            f"| {name} | {count} of {len(converters)} | {fpg}"
            f" | {np.mean(fn):.2f} / {np.mean(mass):.3f} | {np.mean(sens):.3f} |",
            flush=True,
        )
    print(f"\n{time.process_time() - started:.0f} s CPU")
    return 0


def decline(args) -> int:
    from glucosim.scenario.load import parse_scenario
    from glucosim.sweep.scenario_edit import run_scenario_data

    patients = Patients()
    samples, _ = enrolled_samples(args.results, patients, args.first)
    started = time.process_time()
    print(f"Enrolled patients rerun: {len(samples)} (both arms; the sweep clinic's rule)\n")
    print(
        "| extra drift a year | control onsets | control per 100 py"
        " | lifestyle onsets | lifestyle per 100 py | reduction % (95 % CI) |"
    )
    print("|---|---|---|---|---|---|")
    for extra in [float(x) for x in args.extra_drift.split(",")]:
        onsets = {"control": [], "lifestyle": []}
        for sample in samples:
            for arm in onsets:
                values = patients.values(sample, arm)
                values["routine.drift.whole_body_per_year"] += extra
                data = run_scenario_data(patients.loaded, patients.arms[arm], values)
                result, yearly = simulate_for_clinic(parse_scenario(data, source="diagnosis"))
                onsets[arm].append(diagnosis_day(sample, result.daily, yearly))
        ec, pc, ic = incidence_row(onsets["control"])
        el, pl, il = incidence_row(onsets["lifestyle"])
        red, low, high = relative_reduction(el, pl, ec, pc)
        print(f"| {extra:+.3f} | {ec} | {ic:.1f} | {el} | {il:.1f} | {red:.0f} ({low:.0f} to {high:.0f}) |", flush=True)
    print(f"\n{time.process_time() - started:.0f} s CPU")
    return 0


def course(args) -> int:
    from glucosim.simulation.run import simulate

    patients = Patients()
    _, converters = enrolled_samples(args.results, patients, args.first)
    days = [0, 182, 365, 730, 1095]
    columns = {
        "fasting glucose, mg/dl": lambda d, v: d["fasting_glucose_mg_dl"],
        "HbA1c, %": lambda d, v: d["hba1c_percent"],
        "beta function / its reserve": lambda d, v: d["beta_cell_function_rel"] / v["beta_function_max"],
        "beta mass": lambda d, v: d["beta_cell_mass_rel"],
        "sensitivity (rel. to day 0)": lambda d, v: d["insulin_sensitivity_rel"] / d["insulin_sensitivity_rel"].iloc[0],
        "weight change, kg": lambda d, v: d["weight_change_kg"],
    }
    started = time.process_time()
    table = {arm: {name: [] for name in columns} for arm in ("control", "lifestyle")}
    for sample in converters:
        for arm in table:
            values = patients.values(sample, arm)
            daily = simulate(patients.scenario(sample, arm), progress=False).daily
            for name, get in columns.items():
                table[arm][name].append(get(daily, values).to_numpy(float)[days])
    print(f"Control converters: {len(converters)}; mean on days {days}\n")
    print("| quantity | control | lifestyle |")
    print("|---|---|---|")
    for name in columns:
        cells = [" / ".join(f"{x:.3g}" for x in np.mean(table[arm][name], axis=0)) for arm in table]
        print(f"| {name} | {cells[0]} | {cells[1]} |")
    print(f"\n{time.process_time() - started:.0f} s CPU")
    return 0


def walk(args) -> int:

    patients = Patients()
    samples, _ = enrolled_samples(args.results, patients, args.first)
    started = time.process_time()
    # the walking's energy eaten back: +286 kcal/day in the core, +303 at maintenance (found by trial on sample 5:
    # weight within a few tenths of a kg over the 3 years; -1, 0 left ~1 kg off at week 24 and ~3 kg at year 3)
    weight_neutral = {"lifestyle.diet": -1.3, "lifestyle.activity": 1.0, "lifestyle.regain": 55.0}
    variants = {
        "control": ("control", {}, None),
        "walking 150 min/week, energy eaten back": ("lifestyle", weight_neutral, None),
        "the same without the training effect (training_gain 0)": ("lifestyle", weight_neutral, {"training_gain": 0.0}),
    }
    print(f"Enrolled patients: {len(samples)} (the sweep clinic's rule)\n")
    print("| arm | weight change week 24 / year 3, kg | fasting glucose y1, mg/dl | onsets | per 100 py | rate ratio |")
    print("|---|---|---|---|---|---|")
    reference = math.nan
    for name, (arm, adherence, parameters) in variants.items():
        days, w24, w3, f1 = [], [], [], []
        for sample in samples:
            scenario = patients.scenario(sample, arm, adherence=adherence, parameters=parameters)
            result, yearly = simulate_for_clinic(scenario)
            daily = result.daily
            f = daily["fasting_glucose_mg_dl"].to_numpy(float)
            days.append(diagnosis_day(sample, daily, yearly))
            w24.append(float(daily["weight_change_kg"].iloc[CORE_CURRICULUM_DAY]))
            w3.append(float(daily["weight_change_kg"].iloc[-1]))
            f1.append(f[365])
        e, p, i = incidence_row(days)
        reference = i if arm == "control" else reference
        print(
            f"| {name} | {np.mean(w24):.2f} / {np.mean(w3):.2f} | {np.mean(f1):.1f} | {e} | {i:.1f}"
            f" | {i / reference:.2f} |",
            flush=True,
        )
    print(f"\n{time.process_time() - started:.0f} s CPU")
    return 0


CAP_DAY = 30
"""The enrolled's beta cells are read on day 30 of the control arm (the run starts adapted; a month settles it)."""


def cap(args) -> int:
    """How many enrolled patients' beta-cell function sits at its reserve cap, with their 24-h mean glucose
    against the set point: where function is at the cap, a rise of sensitivity cannot lower secretion and turns
    into lower glucose (validation case short_term_exercise_igt)."""
    from glucosim.physiology.beta_cells import compensation_setpoint
    from glucosim.physiology.indices import STATE_NAMES, Par
    from glucosim.simulation.run import simulate

    patients = Patients()
    samples, converters = enrolled_samples(args.results, patients, args.first)
    started = time.process_time()
    share_of_reserve, mean_glucose, set_points = [], [], []
    for sample in samples:
        scenario = patients.scenario(sample, "control")
        result = simulate(scenario, progress=False, until_day=CAP_DAY, state_days=(CAP_DAY,))
        state = result.midnight_states[CAP_DAY]
        share_of_reserve.append(
            state[STATE_NAMES.index("beta_function_rel")] / scenario.parameters[Par.beta_function_max]
        )
        mean_glucose.append(float(result.daily.loc[CAP_DAY - 1, "mean_glucose_mg_dl"]))
        set_points.append(float(compensation_setpoint.py_func(state, scenario.parameters)))
    share, mean, set_point = np.array(share_of_reserve), np.array(mean_glucose), np.array(set_points)
    converted = np.array([sample in converters for sample in samples])
    print(f"Enrolled patients: {len(samples)} (the sweep clinic's rule), control arm, day {CAP_DAY}\n")
    print(f"- beta-cell function / reserve: median {np.median(share):.3f}; at >= 0.98: {np.mean(share >= 0.98):.0%}")
    print(
        f"- 24-h mean glucose: median {np.median(mean):.1f} mg/dl; above the patient's own set point (median"
        f" {np.median(set_point):g}): {np.mean(mean > set_point):.0%}"
    )
    print(
        f"- at >= 0.98 of the reserve: converters {np.mean(share[converted] >= 0.98):.0%} of {converted.sum()},"
        f" the others {np.mean(share[~converted] >= 0.98):.0%} of {(~converted).sum()}"
    )
    print(f"\n{time.process_time() - started:.0f} s CPU")
    return 0


def own_share(variant: str) -> float:
    """The share of each patient's own offset a ``--offsets`` entry asks for: ``own`` is 1, ``own*0.5`` a half."""
    return float(variant.split("*", 1)[1]) if "*" in variant else 1.0


def sensing(args) -> int:
    """Both arms with and without a glucose-sensing offset: each patient's set point at its own day-0 mean glucose
    (``own``) or one offset for all (mg/dl); fasting glucose at years 1 and 3 and the 2-h OGTT glucose at year 1
    (module docstring)."""
    from glucosim.clinic.runner import run_protocol
    from glucosim.parameters import load_parameter_table
    from glucosim.physiology.indices import Par
    from glucosim.simulation.run import simulate

    patients = Patients()
    samples, _ = enrolled_samples(args.results, patients, args.first)
    entry = load_parameter_table()["glucose_sensing_offset"]
    started = time.process_time()
    own = {}
    for sample in samples:
        scenario = patients.scenario(sample, "control")
        day_0 = float(simulate(scenario, progress=False, until_day=1).daily.loc[0, "mean_glucose_mg_dl"])
        own[sample] = min(max(day_0 - float(scenario.parameters[Par.glucose_setpoint]), entry.low), entry.high)
    print(f"Enrolled patients rerun: {len(samples)} (both arms; the sweep clinic's rule)")
    print(f"- their own offsets (day-0 mean glucose - set point): median {np.median(list(own.values())):.1f} mg/dl\n")
    print(
        "| glucose_sensing_offset | control onsets | control per 100 py | lifestyle onsets | lifestyle per 100 py"
        " | reduction % (95 % CI) | fasting glucose y1, control / lifestyle | y3 | 2-h OGTT glucose y1 |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    year_1, year_3 = int(round(DAYS_PER_YEAR)), int(FOLLOW_UP_YEARS * DAYS_PER_YEAR)  # days 365 and 1095
    insulin_rows = []
    extra = [entry for entry in args.offsets.split(",") if entry.strip().lower() != "none"]
    for variant in ["0 (as shipped)", *extra]:
        onsets = {"control": [], "lifestyle": []}
        glucose = {"control": [], "lifestyle": []}
        # the OGTT's fasting insulin and insulinogenic index at day 0 (before the programme; the arms start alike)
        # and at year 1 in each arm: where the programme's gain goes, into glucose or into insulin
        insulin = {"day 0": [], "control": [], "lifestyle": []}
        for sample in samples:
            offset = own_share(variant) * own[sample] if variant.startswith("own") else float(variant.split()[0])
            for arm in onsets:
                scenario = patients.scenario(sample, arm, parameters={"glucose_sensing_offset": offset})
                if arm == "control":
                    insulin["day 0"].append(ogtt_insulin(run_protocol(SCREENING_OGTT_PROTOCOL, scenario, day=0)))
                result, yearly = simulate_for_clinic(scenario, state_days=(year_1,))
                daily = result.daily
                f = daily["fasting_glucose_mg_dl"].to_numpy(float)
                onsets[arm].append(diagnosis_day(sample, daily, yearly))
                state = result.midnight_states[year_1]
                ogtt = run_protocol(SCREENING_OGTT_PROTOCOL, scenario, day=year_1, state=state)
                glucose[arm].append(
                    (f[year_1], f[min(year_3, len(f) - 1)], float(ogtt.indices["two_hour_glucose_mg_dl"]))
                )
                insulin[arm].append(ogtt_insulin(ogtt))
        ec, pc, ic = incidence_row(onsets["control"])
        el, pl, il = incidence_row(onsets["lifestyle"])
        red, lo, hi = relative_reduction(el, pl, ec, pc)
        gc, gl = np.mean(glucose["control"], axis=0), np.mean(glucose["lifestyle"], axis=0)
        name = variant
        if variant.startswith("own"):
            name = f"{own_share(variant):g} x each patient's own (day-0 mean glucose - glucose_setpoint)"
        print(
            f"| {name} | {ec} | {ic:.1f} | {el} | {il:.1f} | {red:.0f} ({lo:.0f} to {hi:.0f})"
            + "".join(f" | {gc[k]:.1f} / {gl[k]:.1f} ({gl[k] - gc[k]:+.1f})" for k in range(3))
            + " |",
            flush=True,
        )
        insulin_rows.append((name, {key: np.array(rows) for key, rows in insulin.items()}))
    print(
        "\nThe OGTT's fasting insulin (uU/ml) and insulinogenic index (uU/ml per mg/dl, (I30 - I0) / (G30 - G0)):"
        " geometric means at day 0 and at year 1 in each arm, and the change from day 0 (%)\n"
    )
    print(
        "| glucose_sensing_offset | fasting insulin day 0 | y1 control | y1 lifestyle"
        " | IGI day 0 | y1 control | y1 lifestyle |"
    )
    print("|---|---|---|---|---|---|---|")
    for name, rows in insulin_rows:
        cells = []
        for k in range(2):
            # geometric means of the positive values (an index of 0 or below, a flat 30-min insulin, is left out)
            g = {
                key: float(np.exp(np.nanmean(np.log(np.where(v[:, k] > 0, v[:, k], np.nan)))))
                for key, v in rows.items()
            }
            cells.append(f"{g['day 0']:.2f}")
            cells += [f"{g[arm]:.2f} ({100 * (g[arm] / g['day 0'] - 1):+.0f} %)" for arm in ("control", "lifestyle")]
        print(f"| {name} | " + " | ".join(cells) + " |")
    print(f"\n{time.process_time() - started:.0f} s CPU")
    return 0


def ogtt_insulin(ogtt) -> tuple[float, float]:
    """(fasting insulin, insulinogenic index) of an OGTT run."""
    return float(ogtt.indices["fasting_insulin_uU_ml"]), float(ogtt.indices["insulinogenic_index_uU_per_mg"])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    commands = (
        ("protocol", "the DPP's OGTT diagnosis"),
        ("dose", "incidence against a fixed weight loss"),
        ("decompose", "what drives the control onsets"),
        ("decline", "both arms with a decline the programme cannot stop"),
        ("course", "the converters' slow states in both arms"),
        ("walk", "the walking without its weight loss"),
        ("cap", "the enrolled's beta-cell function against its reserve cap"),
        ("sensing", "both arms with each patient's set point at its own day-0 mean glucose"),
    )
    for name, helptext in commands:
        p = sub.add_parser(name, help=helptext)
        p.add_argument("results", help="a finished prevention sweep's results directory")
        p.add_argument("--first", type=int, default=None, help="only the first N enrolled (or converters)")
        if name == "dose":
            p.add_argument("--diets", default="0.3,0.6,1.2", help="fixed diet adherences (comma-separated)")
        if name == "sensing":
            p.add_argument(
                "--offsets",
                default="own",
                help="offsets to try (mg/dl, 'own', or a share of it, 'own*0.5'; comma-separated; 'none': the"
                " shipped row only)",
            )
        if name == "decline":
            p.add_argument("--extra-drift", default="-0.022,-0.05", help="yearly fractions added to each drift")
    args = parser.parse_args(argv)
    commands = {"protocol": protocol, "dose": dose, "decompose": decompose, "decline": decline, "course": course}
    return {**commands, "walk": walk, "cap": cap, "sensing": sensing}[args.command](args)


if __name__ == "__main__":
    sys.exit(main())
