"""glucosim's side of each validation case: one function per case id, returning quantity -> value."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import cache
from importlib.resources import files
from pathlib import Path

import numpy as np

from glucosim._toml import load_toml
from glucosim.calibration.course import STAGE_TWO_RESERVE, STAGE_TWO_WEIGHT_KG
from glucosim.physiology.indices import Par
from glucosim.physiology.units import (
    DAYS_PER_YEAR,
    MG_DL_PER_MMOL_L,
    MINUTES_PER_DAY,
    MINUTES_PER_HOUR,
    PMOL_L_PER_UU_ML,
    grams_to_mg_per_kg,
    year_start_day,
)
from glucosim.simulation.markers import FASTING_GLUCOSE_DIABETES_MG_DL

CASE_DIR = Path(__file__).resolve().parent / "data" / "cases"
PUBLISHED_DIR = CASE_DIR.parent / "published"
"""Published time courses that a case reads its published numbers from (and the validation page draws)."""
SCENARIO_DIR = Path(str(files("glucosim") / "scenarios"))
"""The shipped scenarios, read as package data (so an installed wheel finds them)."""
YEARS_AFTER_DIAGNOSIS = 3.0
"""The cases of established type 2 diabetes (the OGTT, the IVGTT's disposition index and the clamp) test scenario 03
this long after its diagnosis (fasting glucose first at 126 mg/dl), read off the run, so they follow a model change
that moves the diagnosis. Until 2026-12-05 they used fixed years (16 for the OGTT and the IVGTT, "three years after"
a diagnosis then at ~13.5; 18 for the clamp), which put the OGTT and the IVGTT at the diagnosis itself once it moved
to year 16.0."""
CLAMP_TARGET_MG_DL = 95.0
"""Both groups are clamped at the same euglycemic target, as in DeFronzo 1985."""


@dataclass
class Quantity:
    """One compared number of a case."""

    name: str
    label: str
    unit: str
    published: float
    low: float
    high: float
    expect: str = "agree"
    remark: str = ""
    fit_informed_by: str = ""
    """What fits the same relation, so that the quantity is not an independent test: a calibration target file
    (e.g. Kahn's hyperbola), or ``models/parameters.toml#<name>`` for a parameter set from the same study. The
    validation page then counts the quantity with the fit set, not the validation set."""
    cause: str = ""
    """One sentence on why glucosim disagrees (the mechanism), for the page's summary table; the remark keeps the
    measurements and what was tried. Required where ``expect`` is "disagree"."""
    value: float = float("nan")

    @property
    def agrees(self) -> bool:
        """Whether glucosim's value lies in the published range."""
        return bool(np.isfinite(self.value) and self.low <= self.value <= self.high)

    @property
    def as_expected(self) -> bool:
        """Whether agreement is what the case file declares (agree, or a documented disagreement)."""
        return self.agrees == (self.expect == "agree")


@dataclass
class Case:
    """A validation case: its source, protocol and quantities."""

    id: str
    title: str
    source: str
    protocol: str
    quantities: list[Quantity] = field(default_factory=list)
    figure: str | None = None
    kind: str = "validation"
    """"validation": glucosim's physiology against published data, never fitted to; "reproduction": a
    reference model run on glucosim's engine against its own paper (an engine check, not validation)."""


def load_cases() -> list[Case]:
    """Every case file, in file-name order."""
    cases = []
    for path in sorted(CASE_DIR.glob("*.toml")):
        data = load_toml(path)
        quantities = [Quantity(**entry) for entry in data.pop("quantities")]
        cases.append(Case(quantities=quantities, **data))
    return cases


# ---------------------------------------------------------------- shared runs
def _reference_scenario(subject: dict | None = None, name: str = "validation subject", **routine_changes):
    """The reference day's routine (with ``routine_changes``; ``duration_days`` defaults to 4) lived by ``subject``
    (a scenario's subject table; default the healthy preset)."""
    from glucosim.clinic.runner import REFERENCE_ROUTINE_PATH
    from glucosim.scenario.load import parse_scenario

    routine = {**load_toml(REFERENCE_ROUTINE_PATH), **routine_changes}
    data = {"name": name, "duration_days": routine.pop("duration_days", 4), "routine": routine}
    if subject is not None:
        data["subject"] = subject
    return parse_scenario(data, "validation")


STATE_YEARS = (0.0, 4.0, 5.0, 8.0, 10.0, 12.0, 15.0, 16.0, 18.0, 20.0)
"""Years at which the validation keeps each scenario's state (one run per scenario serves every case)."""


@cache
def _scenario_run(name: str):
    import glucosim

    path = SCENARIO_DIR / f"{name}.toml"
    last_day = glucosim.load_scenario(path).scenario.n_days - 1
    days = {year: min(year_start_day(year), last_day) for year in STATE_YEARS}
    result = glucosim.simulate(path, progress=False, state_days=tuple(days.values()))
    return result, days


def _scenario_states(name: str, years: tuple[float, ...]):
    """The scenario's result and, per year, (day, state at that midnight); years must be in STATE_YEARS."""
    result, days = _scenario_run(name)
    return result, {year: (days[year], result.midnight_states[days[year]]) for year in years}


@cache
def _established_diabetes(name: str):
    """(result, day, state): scenario ``name`` at the midnight YEARS_AFTER_DIAGNOSIS after its diagnosis.

    Raises:
        ResultError: the scenario is not diagnosed early enough for that day to lie within it (a model change that
            delays the diagnosis past the scenario's end; the validation command reports it without a traceback).
    """
    import glucosim
    from glucosim.errors import ResultError

    result, _ = _scenario_run(name)
    onset = result.summary["first_crossing_day"]["fasting_glucose_126"]
    day = None if onset is None else onset + round(YEARS_AFTER_DIAGNOSIS * DAYS_PER_YEAR)
    if day is None or day >= result.loaded.scenario.n_days:
        raise ResultError(
            f"validation cases of established diabetes: scenario {name} is diagnosed on day {onset}, so "
            f"{YEARS_AFTER_DIAGNOSIS:g} years after it is not within its {result.loaded.scenario.n_days} days "
            f"(lengthen the scenario or change validation.cases.YEARS_AFTER_DIAGNOSIS)"
        )
    later = glucosim.simulate(SCENARIO_DIR / f"{name}.toml", progress=False, until_day=day + 1, state_days=(day,))
    return later, day, later.midnight_states[day]


def _protocol(name: str, **changes):
    from glucosim.clinic.protocol import LoadedProtocol, load_protocol

    loaded = load_protocol(name)
    if not changes:
        return loaded
    return LoadedProtocol(loaded.protocol.model_copy(update=changes), loaded.source, loaded.text)


def _euglycemic_clamp():
    clamp = _protocol("clamp_40mU").protocol.clamp
    return _protocol("clamp_40mU", clamp=clamp.model_copy(update={"target_mg_dl": CLAMP_TARGET_MG_DL}))


def _percent_change(new: float, old: float) -> float:
    """Relative change of ``new`` over ``old`` in percent; NaN (a quantity that cannot agree) where ``old`` is 0.

    A model variant can drive a reference value to exactly 0 (a steady clamp that suppresses the liver's output
    fully, 2026-12-05 and -06 diagnostics), where a change relative to it is undefined: the page then shows the
    quantity as a disagreement with the value nan instead of the whole validation run failing on one case."""
    if old == 0.0:
        return float("nan")
    return 100.0 * (new / old - 1.0)


# ---------------------------------------------------------------- the cases
GLUCOSE_USE_TISSUES = ("muscle", "liver", "adipose", "brain", "splanchnic")
"""The tissues whose ``<tissue>_uptake_mg_kg_min`` columns add up to whole-body glucose use (liver: its glycogen
uptake, 0 at basal insulin)."""


def basal_glucose_use() -> dict:
    from glucosim.clinic.runner import run_protocol

    sample = run_protocol("fasting", "healthy").samples.iloc[0]
    use = sum(sample[f"{tissue}_uptake_mg_kg_min"] for tissue in GLUCOSE_USE_TISSUES)
    return {
        "whole_body_use_mg_kg_min": use,
        "brain_fraction": sample["brain_uptake_mg_kg_min"] / use,
        "muscle_adipose_fraction": (sample["muscle_uptake_mg_kg_min"] + sample["adipose_uptake_mg_kg_min"]) / use,
    }


def meal_response_dalla_man() -> dict:
    from glucosim.clinic.protocol import Action, LoadedProtocol, Protocol
    from glucosim.clinic.runner import run_protocol

    meal = Protocol(
        name="1 g/kg glucose meal",
        kind="ogtt",
        duration_min=240,
        sample_every_min=1,
        actions=(Action(at_min=0, oral_glucose_g=75, absorption="medium"),),
    )
    samples = run_protocol(LoadedProtocol(meal, "validation", ""), "healthy").samples
    peak = samples["glucose_mg_dl"].idxmax()
    return {
        "glucose_peak_mg_dl": samples["glucose_mg_dl"].max(),
        "glucose_peak_time_min": samples.loc[peak, "time_min"],
        "insulin_peak_pmol_l": samples["insulin_uU_ml"].max() * PMOL_L_PER_UU_ML,
        "two_hour_glucose_mg_dl": samples.loc[samples["time_min"] == 120, "glucose_mg_dl"].iloc[0],
    }


IVGTT_LATE_FROM_MIN = 60.0
"""The undershoot is looked for from 60 min on, after glucose has come back down from the bolus."""
IVGTT_SECOND_PHASE_MIN = (19.0, 40.0)
"""The window of the second phase read against the first: the protocol's samples from 19 to 40 min, after the
first-phase peak has passed and before glucose is back near fasting."""


def ivgtt_shape(glucose_time_min, glucose_mg_dl, insulin_time_min, insulin_uU_ml, sample_min) -> dict:
    """The standard IVGTT's glucose undershoot and second phase, read at the protocol's sampling times.

    Each time course starts with its fasting sample and is interpolated linearly onto ``sample_min`` (the
    protocol's times after the bolus), so published curves digitized at scattered times and glucosim's samples are
    read alike. AIRg is the mean insulin increment over the clinic's window (``AIR_WINDOW_MIN``); the second
    phase's is over ``IVGTT_SECOND_PHASE_MIN``.
    """
    from glucosim.clinic.analysis import AIR_WINDOW_MIN

    glucose_mg_dl, insulin_uU_ml = np.asarray(glucose_mg_dl, float), np.asarray(insulin_uU_ml, float)
    samples = np.asarray([t for t in sample_min if t > 0.0], float)
    glucose = np.interp(samples, np.asarray(glucose_time_min, float), glucose_mg_dl)
    insulin = np.interp(samples, np.asarray(insulin_time_min, float), insulin_uU_ml)
    fasting_glucose, fasting_insulin = glucose_mg_dl[0], insulin_uU_ml[0]
    late = samples >= IVGTT_LATE_FROM_MIN
    lowest = int(np.argmin(np.where(late, glucose, np.inf)))
    first = (samples >= AIR_WINDOW_MIN[0]) & (samples <= AIR_WINDOW_MIN[1])
    low, high = IVGTT_SECOND_PHASE_MIN
    second = (samples >= low) & (samples <= high)
    airg = insulin[first].mean() - fasting_insulin
    return {
        "glucose_nadir_below_fasting_percent": 100.0 * (glucose[lowest] / fasting_glucose - 1.0),
        "glucose_nadir_time_min": float(samples[lowest]),
        "second_phase_over_first_phase": (insulin[second].mean() - fasting_insulin) / airg,
    }


def load_published(name: str) -> dict:
    """A published time course of validation/published (its file's tables: glucose, insulin, ...)."""
    return load_toml(PUBLISHED_DIR / f"{name}.toml")


BERGMAN_1981_LEAN = "bergman1981_ivgtt_lean"
"""Bergman 1981's lean normal-tolerance group, digitized (validation/published)."""


def published_ivgtt_lean() -> dict:
    """Bergman 1981's lean normal-tolerance group read by ``ivgtt_shape`` at the shipped IVGTT's sampling times."""
    data = load_published(BERGMAN_1981_LEAN)
    glucose, insulin = data["glucose"], data["insulin"]
    return ivgtt_shape(
        glucose["time_min"],
        glucose["value"],
        insulin["time_min"],
        insulin["value"],
        _protocol("ivgtt_0.3g").protocol.samples_min,
    )


@cache
def _healthy_subject():
    """(loaded scenario, midnight state of day 0) of the healthy preset: the adapted start its three intravenous and
    oral-against-intravenous cases share, solved once (run_protocol with that state gives the same numbers)."""
    from glucosim.clinic.runner import subject_scenario, subject_state

    healthy = subject_scenario("healthy")
    return healthy, subject_state(healthy, 0)


@cache
def healthy_ivgtt():
    """(samples, parameters) of the healthy preset's standard IVGTT: the case's and the validation page figure's."""
    from glucosim.clinic.runner import run_protocol

    healthy, state = _healthy_subject()
    return run_protocol("ivgtt_0.3g", healthy, 0, state).samples, healthy.parameters


def graded_glucose_infusion() -> dict:
    """The healthy preset's total pre-hepatic insulin secretion over the shipped graded glucose infusion (2-12 mg/kg/min
    by vein over 150 min, Kjems 2003's), pmol/kg."""
    from glucosim.clinic.runner import run_protocol

    healthy, state = _healthy_subject()
    samples = run_protocol("graded_glucose_infusion", healthy, 0, state).samples
    secretion_pmol_kg_min = samples["secretion_pmol_min"].to_numpy() / healthy.parameters[Par.body_weight]
    return {"total_secretion_pmol_kg": float(np.trapezoid(secretion_pmol_kg_min, samples["time_min"].to_numpy()))}


HYPERGLYCEMIC_CLAMP_READ_MIN = 120.0
"""The 10 mmol/l clamp's reading: Eur J Clin Invest 2000 30:411's insulin at 120 min (the shipped protocol's end)."""
STEPPED_CLAMP_RISE_MG_DL = 54.0
"""The long clamp's glucose above the subject's own fasting glucose: 3 mmol/l (the stepwise clamps' top step)."""
STEPPED_CLAMP_MIN = 180.0
STEPPED_CLAMP_SLOPE_FROM_MIN = 150.0
"""The rate of rise of insulin is read over the long clamp's last 30 min ("after 3 h": no plateau yet)."""


def hyperglycemic_clamp_protocol(
    duration_min: float | None = None, target_mg_dl: float | None = None, fasting_mg_dl: float | None = None
):
    """The shipped hyperglycemic_clamp_10mM (a LoadedProtocol), lengthened to ``duration_min`` and/or held at
    ``target_mg_dl`` instead of 180 mg/dl; a new target needs the subject's ``fasting_mg_dl``, to which the priming
    bolus is scaled (the shipped bolus raises glucose by about its target's distance from fasting)."""
    from glucosim.clinic.protocol import LoadedProtocol

    loaded = _protocol("hyperglycemic_clamp_10mM")
    shipped = loaded.protocol
    changes: dict = {}
    if duration_min is not None:
        changes["duration_min"] = duration_min
    if target_mg_dl is not None:
        if fasting_mg_dl is None:
            raise ValueError("hyperglycemic_clamp_protocol: a new target_mg_dl needs the subject's fasting_mg_dl")
        bolus = shipped.actions[0]
        scale = (target_mg_dl - fasting_mg_dl) / (shipped.clamp.target_mg_dl - fasting_mg_dl)
        changes["actions"] = (bolus.model_copy(update={"iv_glucose_g_per_kg": bolus.iv_glucose_g_per_kg * scale}),)
        changes["clamp"] = shipped.clamp.model_copy(update={"target_mg_dl": target_mg_dl})
    if not changes:
        return loaded
    length = changes.get("duration_min", shipped.duration_min)
    held = changes.get("clamp", shipped.clamp).target_mg_dl
    changes["name"] = f"{shipped.name}: {held:g} mg/dl for {length:g} min"
    return LoadedProtocol(shipped.model_copy(update=changes), loaded.source, loaded.text)


def insulin_rise_pmol_l_min(samples, from_min: float) -> float:
    """Plasma insulin's rate of rise from ``from_min`` to the end of a protocol's samples, pmol/l/min (least
    squares)."""
    from glucosim.physiology.units import PMOL_L_PER_UU_ML

    minutes = samples["time_min"].to_numpy()
    late = minutes >= from_min
    return float(np.polyfit(minutes[late], samples["insulin_uU_ml"].to_numpy()[late] * PMOL_L_PER_UU_ML, 1)[0])


def hyperglycemic_clamp_second_phase() -> dict:
    """The healthy preset's second phase at constant hyperglycaemia: plasma insulin at 120 min of the shipped
    hyperglycemic_clamp_10mM, and insulin's rate of rise over the last 30 min of 3 h at 3 mmol/l above its own fasting
    glucose (the same protocol, its target and priming bolus scaled to the smaller rise), pmol/l and pmol/l/min."""
    from glucosim.clinic.runner import run_protocol
    from glucosim.physiology.units import PMOL_L_PER_UU_ML

    healthy, state = _healthy_subject()
    ten = run_protocol("hyperglycemic_clamp_10mM", healthy, 0, state).samples
    insulin_pmol_l = ten["insulin_uU_ml"].to_numpy() * PMOL_L_PER_UU_ML
    at_read = float(np.interp(HYPERGLYCEMIC_CLAMP_READ_MIN, ten["time_min"].to_numpy(), insulin_pmol_l))
    fasting_mg_dl = float(ten["glucose_mg_dl"].to_numpy()[0])
    longer = hyperglycemic_clamp_protocol(STEPPED_CLAMP_MIN, fasting_mg_dl + STEPPED_CLAMP_RISE_MG_DL, fasting_mg_dl)
    long_samples = run_protocol(longer, healthy, 0, state).samples
    return {
        "insulin_120min_pmol_l": at_read,
        "insulin_rise_third_hour_pmol_l_min": insulin_rise_pmol_l_min(long_samples, STEPPED_CLAMP_SLOPE_FROM_MIN),
    }


INCRETIN_LOADS_G = (25.0, 75.0, 125.0)
"""Mari 2013's (and Bagger 2011's) three oral glucose loads, g."""
INCRETIN_TEST_MIN = 240.0
"""Their tests lasted 4 h."""


def incretin_effect() -> dict:
    """The healthy preset's total insulin secretion after a 25, 75 and 125 g glucose drink over that of the same
    plasma glucose by vein (``clinic.incretin.isoglycaemic_comparison``), as Mari 2013 read it."""
    from glucosim.clinic.incretin import isoglycaemic_comparison

    healthy, state = _healthy_subject()
    return {
        f"total_secretion_ratio_{load:g}g": isoglycaemic_comparison(
            healthy, load, INCRETIN_TEST_MIN, state=state
        ).total_secretion_ratio
        for load in INCRETIN_LOADS_G
    }


RIZZA_INSULIN_STEPS_MU_KG_MIN = (0.2, 0.5, 1.0, 5.0)
"""The stepped clamp's insulin infusion rates, mU/kg/min, each for RIZZA_STEP_MIN in this order. Rizza 1981's
abstract gives the range (0.2 to 5.0) and four steps of 2 h over 8 h, not the rates between: these are chosen to span
it, one step near each of its landmarks (half-maximal suppression of production, its completion near 60 uU/ml,
half-maximal utilisation, and the maximum at 200-700 uU/ml)."""
RIZZA_STEP_MIN = 120.0
RIZZA_READ_LAST_MIN = 30.0
"""Each step is read as the mean of its last 30 min (tracer studies average their last samples of a step)."""


def stepped_insulin_clamp_steps(subject=None, state=None):
    """(insulin uU/ml, liver output and whole-body glucose use in mg/kg/min) at the fasting sample and at the end of
    each step of a Rizza 1981 stepped euglycaemic clamp (RIZZA_INSULIN_STEPS_MU_KG_MIN) of ``subject`` (the healthy
    preset by default), glucose clamped at its fasting level. Returns a list of (insulin, output, use) rows, the
    fasting row first."""
    from glucosim.clinic.protocol import Action, GlucoseClamp, LoadedProtocol, Protocol
    from glucosim.clinic.runner import run_protocol

    if subject is None:
        subject, state = _healthy_subject()
    p = subject.parameters
    per_kg_to_per_m2 = float(p[Par.body_weight] / p[Par.body_surface_area])  # the protocol doses per m2
    steps = RIZZA_INSULIN_STEPS_MU_KG_MIN
    clamp = Protocol(
        name="stepped euglycaemic clamp (Rizza 1981)",
        kind="clamp",
        duration_min=RIZZA_STEP_MIN * len(steps),
        sample_every_min=5,
        actions=tuple(
            Action(at_min=k * RIZZA_STEP_MIN, insulin_infusion_mU_m2_min=rate * per_kg_to_per_m2)
            for k, rate in enumerate(steps)
        ),
        clamp=GlucoseClamp(target_mg_dl="fasting", steady_state_from_min=RIZZA_STEP_MIN - RIZZA_READ_LAST_MIN),
    )
    samples = run_protocol(LoadedProtocol(clamp, "validation", ""), subject, 0, state).samples
    use = sum(samples[f"{tissue}_uptake_mg_kg_min"] for tissue in GLUCOSE_USE_TISSUES)
    rows = [(samples["insulin_uU_ml"].iloc[0], samples["liver_output_mg_kg_min"].iloc[0], use.iloc[0])]
    for k in range(len(steps)):
        end = (k + 1) * RIZZA_STEP_MIN
        window = (samples["time_min"] > end - RIZZA_READ_LAST_MIN) & (samples["time_min"] <= end)
        rows.append(
            (
                samples.loc[window, "insulin_uU_ml"].mean(),
                samples.loc[window, "liver_output_mg_kg_min"].mean(),
                use[window].mean(),
            )
        )
    return rows


def insulin_at_half_effect(insulin_uU_ml, effect_fraction) -> float:
    """The insulin at which ``effect_fraction`` (0 at fasting, 1 at the largest effect; rising with insulin) first
    reaches 1/2, by linear interpolation in log insulin between the steps (dose-responses are sigmoid in log dose)."""
    insulin, effect = np.log(np.asarray(insulin_uU_ml, dtype=float)), np.asarray(effect_fraction, dtype=float)
    above = np.nonzero(effect >= 0.5)[0]
    if above.size == 0 or above[0] == 0:
        return float("nan")
    k = above[0]
    share = (0.5 - effect[k - 1]) / (effect[k] - effect[k - 1])
    return float(np.exp(insulin[k - 1] + share * (insulin[k] - insulin[k - 1])))


def insulin_dose_response_rizza() -> dict:
    """The insulin giving half-maximal suppression of the liver's glucose output (of its fasting output: complete
    suppression is 0) and half-maximal stimulation of whole-body glucose use (of the rise from fasting to the top
    step), uU/ml, over the healthy preset's stepped clamp (``stepped_insulin_clamp_steps``)."""
    insulin, output, use = (np.array(column) for column in zip(*stepped_insulin_clamp_steps(), strict=True))
    suppression = 1.0 - output / output[0]
    stimulation = (use - use[0]) / (use[-1] - use[0])
    return {
        "liver_output_half_suppression_insulin_uU_ml": insulin_at_half_effect(insulin, suppression),
        "glucose_use_half_maximal_insulin_uU_ml": insulin_at_half_effect(insulin, stimulation),
    }


GASTALDELLI_FASTING_GLUCOSE_MG_DL = 8.3 * MG_DL_PER_MMOL_L
"""Gastaldelli 2000's type 2 diabetic subjects' mean fasting glucose (8.3 mmol/l), at which scenario 03's subject is
compared with itself before its decline."""
GASTALDELLI_FAST_H = 15.0
"""Their glucose output was measured after a 15-h fast."""


def basal_glucose_output_type2() -> dict:
    """Scenario 03's subject's liver glucose output after a 15-h fast on the first day its 30-day mean fasting glucose
    reaches GASTALDELLI_FASTING_GLUCOSE_MG_DL, over its own output at the start of the scenario (normal glucose)."""
    import glucosim
    from glucosim.calibration.course import SMOOTH_DAYS
    from glucosim.clinic.protocol import LoadedProtocol, Protocol
    from glucosim.clinic.runner import run_protocol
    from glucosim.errors import ResultError

    name = "03_insulin_resistance_low_reserve"
    result, _ = _scenario_run(name)
    fasting = result.daily["fasting_glucose_mg_dl"].rolling(SMOOTH_DAYS, min_periods=1).mean().to_numpy()
    reached = np.nonzero(fasting >= GASTALDELLI_FASTING_GLUCOSE_MG_DL)[0]
    if reached.size == 0:
        raise ResultError(
            f"validation case basal_glucose_output_type2: scenario {name}'s fasting glucose never reaches "
            f"{GASTALDELLI_FASTING_GLUCOSE_MG_DL:.0f} mg/dl"
        )
    day = int(reached[0])
    later = glucosim.simulate(SCENARIO_DIR / f"{name}.toml", progress=False, until_day=day + 1, state_days=(0, day))
    outputs = []
    for when in (0, day):  # the test goes on from the morning's fasting sample, without breakfast, to a 15-h fast
        test_min = max(GASTALDELLI_FAST_H - _overnight_fast_h(later.loaded, when), 0.0) * MINUTES_PER_HOUR
        fast = Protocol(name="15-h fast", kind="fasting", duration_min=test_min, samples_min=(0.0, test_min))
        samples = run_protocol(
            LoadedProtocol(fast, "validation", ""), later.loaded, when, later.midnight_states[when]
        ).samples
        outputs.append(float(samples["liver_output_mg_kg_min"].iloc[-1]))
    return {"basal_output_ratio": outputs[1] / outputs[0]}


def _overnight_fast_h(loaded, day: int) -> float:
    """Hours from the last meal of ``day - 1`` (the same day's routine at day 0) to the fasting sample of ``day``."""
    from glucosim.scenario.compile import ScenarioProgram

    program = ScenarioProgram(loaded)
    previous = program.day_plan(max(day - 1, 0))
    last_meal_min = max(minute for minute, _, _ in previous.meals)
    return (MINUTES_PER_DAY - last_meal_min + program.day_plan(day).fasting_sample_min) / MINUTES_PER_HOUR


IVGTT_EXTRACTION_WINDOW_MIN = (30.0, 50.0)
"""Where Cobelli & Pacini 1988 found the IVGTT's hepatic insulin extraction lowest (30-50 min)."""
IVGTT_LIVER_SUPPRESSION_MIN = 60.0
"""Hovorka 2002's reading of the liver: endogenous glucose production "suppressed by 70 % ... within 60 min" of the
IVGTT, read as the suppression at the 60-min sample (the deepest suppression over 0-60 min would read glucosim's
full suppression for the two minutes after the bolus, when glucose is ~230 mg/dl: a disagreement either way)."""


def ivgtt_time_course_healthy() -> dict:
    """The healthy preset's standard IVGTT read as ``ivgtt_shape`` reads Bergman 1981's lean group, the fall of its
    hepatic insulin extraction from fasting to the mean at the 30-50 min samples (percentage points), and the
    suppression of its liver's glucose output at 60 min (% of fasting output, Hovorka 2002's reading)."""
    from glucosim.physiology.insulin import hepatic_extraction

    samples, p = healthy_ivgtt()
    time = samples["time_min"].to_numpy()
    secretion = samples["secretion_pmol_min"].to_numpy() / p[Par.body_weight]  # pmol/kg/min, as the kernel takes it
    extraction = np.array([hepatic_extraction(s, p) for s in secretion])
    low, high = IVGTT_EXTRACTION_WINDOW_MIN
    window = (time >= low) & (time <= high)
    liver_output = samples["liver_output_mg_kg_min"].to_numpy()
    at = int(np.argmin(np.abs(time - IVGTT_LIVER_SUPPRESSION_MIN)))
    return {
        **ivgtt_shape(time, samples["glucose_mg_dl"].to_numpy(), time, samples["insulin_uU_ml"].to_numpy(), time),
        "hepatic_extraction_fall_points": 100.0 * (extraction[window].mean() - extraction[0]),
        "liver_output_suppression_60min_percent": 100.0 * (1.0 - liver_output[at] / liver_output[0]),
    }


def clamp_type2_vs_control() -> dict:
    from glucosim.clinic.runner import run_protocol

    control = run_protocol(_euglycemic_clamp(), "healthy").indices
    result, day, state = _established_diabetes("03_insulin_resistance_low_reserve")
    diabetic = run_protocol(_euglycemic_clamp(), result.loaded, day=day, state=state).indices
    return {
        "disposal_reduction_percent": -_percent_change(
            diabetic["steady_state_uptake_mg_kg_min"], control["steady_state_uptake_mg_kg_min"]
        ),
        # DeFronzo 1985's 7.04 mg/kg/min is total body glucose metabolism (tracer), not the infusion rate
        "clamp_uptake_control_mg_kg_min": control["steady_state_uptake_mg_kg_min"],
    }


def one_night_short_sleep() -> dict:
    from glucosim.clinic.runner import REFERENCE_ROUTINE_PATH, run_protocol
    from glucosim.scenario.load import parse_scenario

    def test_night(sleep_h: float):
        # a normal sleeper (a run starts adapted to its first day's routine: 8 h nights), then ONE night of
        # sleep_h before the clamp on day 1, as in Donga 2010; 4-h nights from day 0 would be a habitual
        # short sleeper, adapted to it
        routine = load_toml(REFERENCE_ROUTINE_PATH)
        routine.pop("duration_days", None)
        data = {"name": "test night", "duration_days": 2, "routine": routine}
        data["changes"] = [{"from_day": 1, "sleep_h": sleep_h}]
        return parse_scenario(data, "validation")

    # both nights clamped at one euglycemic target, as a crossover clamp study holds them (and as the exercise case
    # does): at each night's own fasting glucose the short night's clamp ran ~3 mg/dl higher, which suppresses the
    # liver's output and raises uptake (a measurement-fidelity audit, 2026-12-05)
    clamp = _euglycemic_clamp()
    rested = run_protocol(clamp, test_night(8.0), day=1).indices
    short = run_protocol(clamp, test_night(4.0), day=1).indices
    return {
        "peripheral_disposal_change_percent": _percent_change(
            short["steady_state_uptake_mg_kg_min"], rested["steady_state_uptake_mg_kg_min"]
        ),
        "infusion_rate_change_percent": _percent_change(short["m_value_mg_kg_min"], rested["m_value_mg_kg_min"]),
        "fasting_glucose_change_percent": _percent_change(
            short["fasting_glucose_mg_dl"], rested["fasting_glucose_mg_dl"]
        ),
        "fasting_insulin_change_percent": _percent_change(
            short["fasting_insulin_uU_ml"], rested["fasting_insulin_uU_ml"]
        ),
        "clamp_liver_output_change_percent": _percent_change(
            short["clamp_liver_output_mg_kg_min"], rested["clamp_liver_output_mg_kg_min"]
        ),
    }


def exercise_uptake_and_after_effect() -> dict:
    import glucosim
    from glucosim.clinic.runner import run_protocol

    morning = _reference_scenario(
        duration_days=1,
        meals=[{"time_h": 12.5, "carbs_g": 80}, {"time_h": 19.0, "carbs_g": 80}],
        exercise=[{"start_h": 7.0, "duration_min": 60, "intensity_pct_vo2max": 55}],
    )
    day = glucosim.simulate(morning, progress=False).trajectories[0]
    rest = day.loc[np.isclose(day["clock_h"], 7.0), "muscle_uptake_mg_kg_min"].iloc[0]
    moving = day.loc[np.isclose(day["clock_h"], 7.0 + 40.0 / 60.0), "muscle_uptake_mg_kg_min"].iloc[0]
    session = [{"start_h": 18.0, "duration_min": 60, "intensity_pct_vo2max": 55, "weekdays": [0]}]
    exercised = _reference_scenario(exercise=session)
    control = _reference_scenario()
    m = {}
    # a clamp study holds every trial at the same glucose target; clamping each arm at its own fasting glucose
    # (the exercised one's is lower the next morning) would compare uptake at two different glucose levels
    clamp = _euglycemic_clamp()
    for day_after in (1, 3):
        m[("exercise", day_after)] = run_protocol(clamp, exercised, day=day_after).indices["m_value_mg_kg_min"]
        m[("control", day_after)] = run_protocol(clamp, control, day=day_after).indices["m_value_mg_kg_min"]
    return {
        "muscle_uptake_fold_during_exercise": moving / rest,
        "m_value_change_next_morning_percent": _percent_change(m[("exercise", 1)], m[("control", 1)]),
        "m_value_change_day3_percent": _percent_change(m[("exercise", 3)], m[("control", 3)]),
    }


def _ivgtt(name: str, years: tuple[float, ...]) -> dict:
    from glucosim.clinic.runner import run_protocol

    result, states = _scenario_states(name, years)
    return {
        year: run_protocol("ivgtt_0.3g", result.loaded, day=day, state=state).indices
        for year, (day, state) in states.items()
    }


def disposition_index() -> dict:
    from glucosim.clinic.runner import run_protocol

    normal = _ivgtt("02_insulin_resistance_compensated", (0.0, 10.0, 20.0))
    failing = _ivgtt("03_insulin_resistance_low_reserve", (0.0,))
    result, day, state = _established_diabetes("03_insulin_resistance_low_reserve")
    failed = run_protocol("ivgtt_0.3g", result.loaded, day=day, state=state).indices
    return {
        "si_fall_normal_reserve_percent": -_percent_change(
            normal[20.0]["si_1e4_per_min_per_uU_ml"], normal[0.0]["si_1e4_per_min_per_uU_ml"]
        ),
        "di_change_normal_reserve_percent": _percent_change(
            normal[20.0]["disposition_index"], normal[0.0]["disposition_index"]
        ),
        "di_change_failed_reserve_percent": _percent_change(
            failed["disposition_index"], failing[0.0]["disposition_index"]
        ),
    }


def progression_shape() -> dict:
    result, _ = _scenario_run("03_insulin_resistance_low_reserve")
    daily = result.daily
    onset = result.summary["first_crossing_day"]["fasting_glucose_126"]
    before = daily.iloc[:onset]
    insulin = before["fasting_insulin_uU_ml"].rolling(7, min_periods=1).mean()
    peak = int(insulin.idxmax())
    function = daily["beta_cell_function_rel"]
    later = min(onset + int(3 * DAYS_PER_YEAR), len(daily) - 1)
    return {
        "fasting_insulin_rise_before_onset": insulin.iloc[peak] / daily["fasting_insulin_uU_ml"].iloc[:7].mean(),
        "fasting_glucose_at_insulin_peak_mg_dl": before["fasting_glucose_mg_dl"]
        .rolling(7, min_periods=1)
        .mean()
        .iloc[peak],
        "function_after_onset_rel_peak": function.iloc[later] / function.iloc[:onset].max(),
    }


def ogtt_across_stages() -> dict:
    from glucosim.clinic.runner import run_protocol

    healthy = run_protocol("ogtt_75g", "healthy").indices
    result, day, state = _established_diabetes("03_insulin_resistance_low_reserve")
    diabetic = run_protocol("ogtt_75g", result.loaded, day=day, state=state).indices
    return {
        "two_hour_glucose_healthy_mg_dl": healthy["two_hour_glucose_mg_dl"],
        "two_hour_glucose_diabetic_mg_dl": diabetic["two_hour_glucose_mg_dl"],
        "insulinogenic_index_ratio": diabetic["insulinogenic_index_uU_per_mg"]
        / healthy["insulinogenic_index_uU_per_mg"],
    }


def protein_with_glucose_type2() -> dict:
    """Nuttall 1984's test on scenario 03 three years after its diagnosis: 50 g glucose with and without 50 g
    protein, 5-h incremental areas."""
    from glucosim.clinic.runner import run_protocol

    result, day, state = _established_diabetes("03_insulin_resistance_low_reserve")
    with_protein = _protocol("glucose_with_protein_5h")
    both = run_protocol(with_protein, result.loaded, day=day, state=state).indices
    alone = run_protocol(with_protein.without_protein(), result.loaded, day=day, state=state).indices
    insulin, glucose = "insulin_incremental_area_uU_ml_min", "glucose_incremental_area_mg_dl_min"
    return {
        "insulin_area_ratio": both[insulin] / alone[insulin],
        "glucose_area_change_percent": _percent_change(both[glucose], alone[glucose]),
    }


def ha_sherman_reproduction() -> dict:
    from glucosim.reference_models import ha_sherman

    untreated = ha_sherman.simulate(1800.0)
    early = ha_sherman.simulate(1800.0, intervention_day=1100.0, si_after=0.468)
    late = ha_sherman.simulate(1800.0, intervention_day=1400.0, si_after=0.468)
    return {
        "day_glucose_crosses_126": float(
            np.argmax(untreated["glucose_mg_dl"].to_numpy() >= FASTING_GLUCOSE_DIABETES_MG_DL)
        ),
        "peak_insulin_uU_ml": untreated["insulin_uU_ml"].max(),
        "glucose_day1800_early_mg_dl": early["glucose_mg_dl"].iloc[-1],
        "glucose_day1800_late_mg_dl": late["glucose_mg_dl"].iloc[-1],
    }


def topp_reproduction() -> dict:
    from glucosim.reference_models import topp

    p = topp.parameter_vector()
    points = topp.fixed_points(p)
    glucose_quarter, insulin_quarter, _ = topp.fixed_points(topp.parameter_vector(SI=0.18))["healthy"]
    return {
        "healthy_glucose_mg_dl": points["healthy"][0],
        "healthy_beta_cell_mass_mg": points["healthy"][2],
        "saddle_glucose_mg_dl": points["saddle"][0],
        "glucose_at_quarter_sensitivity_mg_dl": glucose_quarter,
        "insulin_ratio_at_quarter_sensitivity": insulin_quarter / points["healthy"][1],
        "critical_death_rate_per_day": p[topp.P.r1] ** 2 / (4 * p[topp.P.r2]),
    }


def _run_days(name: str, days: int, subject: dict, routine: dict):
    import glucosim
    from glucosim.scenario.load import parse_scenario

    scenario = parse_scenario(
        {"name": name, "duration_days": days, "subject": subject, "routine": routine}, "validation"
    )
    return glucosim.simulate(scenario, progress=False).daily


def energy_balance_weight() -> dict:
    # Steven 2016: ~624 kcal/day of meal replacements plus non-starchy vegetables (~700 kcal/day in all)
    shake = {"carbs_g": 25.0, "fat_g": 5.0, "protein_g": 17.0}
    vlcd = _run_days(
        "VLCD",
        56,
        {"body_weight_kg": 98.0, "parameters": {"height_cm": 170.0, "age_years": 57.0, "body_fat_fraction": 0.35}},
        {"meals": [{"time_h": hour, **shake} for hour in (8.0, 13.0, 19.0)], "other_food_kcal_per_day": 60.0},
    )
    reference_meals = load_toml(_reference_routine_path())["meals"]
    smaller = _run_days(
        "100 kcal/day less",
        int(5 * DAYS_PER_YEAR),
        {"body_weight_kg": 90.0, "parameters": {"body_fat_fraction": 0.28}},
        {"meals": reference_meals, "energy_surplus_kcal_per_day": -100.0},
    )
    change = smaller["weight_change_kg"].to_numpy()
    return {
        "vlcd_weight_change_kg": float(vlcd["weight_change_kg"].iloc[-1]),
        "weight_change_half_time_days": float(np.argmax(change <= 0.5 * change[-1])),
    }


def fasting_glycogen_gluconeogenesis() -> dict:
    import glucosim
    from glucosim.scenario.load import parse_scenario

    routine = load_toml(_reference_routine_path())
    last_meal_h = max(meal["time_h"] for meal in routine["meals"])
    data = {
        "name": "68-h fast",
        "duration_days": 4,
        "routine": routine,
        "changes": [{"from_day": 1, "meals": []}],
        "output": {"trajectory_days": [0, 1, 2, 3]},
    }
    result = glucosim.simulate(parse_scenario(data, "validation"), progress=False)
    frames = [result.trajectories[day] for day in range(4)]

    # consecutive days share their midnight row: keep one
    _, rows = np.unique(np.concatenate([frame["time_min"].to_numpy() for frame in frames]), return_index=True)

    def series(column: str) -> np.ndarray:
        return np.concatenate([frame[column].to_numpy() for frame in frames])[rows]

    hours = series("time_min") / 60.0 - last_meal_h
    output, glycogen, glucose = (
        series(name) for name in ("liver_output_mg_kg_min", "liver_glycogen_mg_kg", "glucose_mg_dl")
    )

    def share(start_h: float, end_h: float) -> float:
        # Rothman's method: gluconeogenesis = glucose production - NET glycogenolysis, the fall of the
        # glycogen store over the window (13C NMR), so glycogen cycling counts as gluconeogenesis
        window = (hours >= start_h) & (hours <= end_h)
        produced = float(np.trapezoid(output[window], hours[window] * 60.0))
        net_glycogenolysis = float(np.interp(start_h, hours, glycogen) - np.interp(end_h, hours, glycogen))
        return 100.0 * (1.0 - net_glycogenolysis / produced)

    fast = hours >= 0.0
    return {
        "gng_share_0_22h_percent": share(0.0, 22.0),
        "gng_share_22_36h_percent": share(22.0, 36.0),
        "gng_share_36_54h_percent": share(36.0, 54.0),
        "glucose_68h_mg_dl": float(np.interp(68.0, hours, glucose)),
        "lowest_glucose_mg_dl": float(glucose[fast].min()),
    }


CGM_STUDY_SENSORS = 100
"""Virtual participants of the CGM comparison, each wearing one sensor for its life (the published values are a
median and a mean over 153 participants; over 100 sensors the three statistics move by up to ~0.2 point between
seeds)."""
CGM_STUDY_SEED = 20190601


def cgm_study_readings(glucose_day_mg_dl) -> list:
    """What blinded Dexcom G6 sensors read from one day of plasma glucose, worn as Shah 2019's participants did.

    **Main arguments:**

    - `glucose_day_mg_dl`: one day of 5-minute plasma glucose, midnight to midnight without the closing midnight.

    **Returns:**

    The readings of ``CGM_STUDY_SENSORS`` sensors (seeded by ``CGM_STUDY_SEED``), each worn for its 10-day life
    over the same day repeated (the scenario's days are alike once adapted; Shah's participants wore one for up
    to 10 days). The CGM study's statistics are of sensor readings, so the model's plasma glucose is read
    through the sensor's published error model (glucosim.clinic.cgm_sensor).
    """
    from glucosim.clinic.cgm_sensor import load_sensor, sensor_readings

    sensor = load_sensor("dexcom_g6")
    days = int(round(sensor.lifetime_days))
    wear = np.tile(np.asarray(glucose_day_mg_dl, dtype=float), days)
    rng = np.random.default_rng(CGM_STUDY_SEED)
    return [sensor_readings(wear, sensor=sensor, seed=rng) for _ in range(CGM_STUDY_SENSORS)]


GANNON_AREA_HOURS = 4.0
"""Gannon 1993 (J Am Coll Nutr 12:36, abstract): "the net 4-hour postprandial area responses ... with the fasting
glucose concentration ... as a baseline" (a 5-h area above fasting until 2026-12-05)."""


def mixed_meals_cgm() -> dict:
    import glucosim

    result = glucosim.simulate(SCENARIO_DIR / "32_mixed_meal_day.toml", progress=False)
    glucose = result.trajectories[max(result.trajectories)]["glucose_mg_dl"].to_numpy()[:-1]  # one day of 5-min samples
    readings = cgm_study_readings(glucose)

    def starch_meal_area(fat_g: float) -> float:
        from glucosim.scenario.load import parse_scenario

        data = {
            "name": "starch meal",
            "duration_days": 2,
            "routine": load_toml(_reference_routine_path()),
            "changes": [{"from_day": 1, "meals": [{"time_h": 8.0, "carbs_g": 50.0, "fat_g": fat_g}]}],
            "output": {"trajectory_days": [1]},
        }
        day = glucosim.simulate(parse_scenario(data, "validation"), progress=False).trajectories[1]
        before = day.loc[day["clock_h"] <= 8.0, "glucose_mg_dl"].iloc[-1]
        # Gannon's measure: the net 4-h area with the fasting glucose as its baseline (a dip below counts against)
        window = (day["clock_h"] >= 8.0) & (day["clock_h"] <= 8.0 + GANNON_AREA_HOURS)
        return float(np.trapezoid(day.loc[window, "glucose_mg_dl"] - before, day.loc[window, "time_min"]))

    return {
        # Shah 2019 reports the median time in range and above 140 and the mean CV over its participants
        "time_in_range_percent": float(np.median([100.0 * np.mean((r >= 70.0) & (r <= 140.0)) for r in readings])),
        "glucose_cv_percent": float(np.mean([100.0 * r.std() / r.mean() for r in readings])),
        "time_above_140_percent": float(np.median([100.0 * np.mean(r > 140.0) for r in readings])),
        "fat_glucose_area_change_percent": _percent_change(starch_meal_area(41.0), starch_meal_area(0.0)),
    }


EARLY_PHASE_MIN = 30.0
"""Early-phase insulin is the insulin area of the first 30 min after a meal (the Scheer group's convention for
its meal tests; Morris 2016's own window was not read); late phase is the rest of the 3-h postprandial window."""


def meal_timing_responses(parameters: dict | None = None, **change) -> dict:
    """Glucose and insulin after the same meal (75 g) at 08:00 and 20:00 of day 1, per meal hour.

    ``change`` alters day 1's routine (e.g. ``sleep_midpoint_h=15.0``: sleep 12 h out of phase with the clock),
    ``parameters`` the subject's parameters. Each meal: mean glucose over 3 h, insulin area 0-30 min (early)
    and 30-180 min (late), pmol/l x h. Shared by the circadian validation case and by the derivation of
    misalignment_sensitivity_loss from Scheer 2009 (tests/test_clock.py).
    """
    import glucosim
    from glucosim.scenario.load import parse_scenario

    meals = [{"time_h": 8.0, "carbs_g": 75.0}, {"time_h": 20.0, "carbs_g": 75.0}]
    data = {
        "name": "meal timing",
        "duration_days": 2,
        "routine": load_toml(_reference_routine_path()),
        "subject": {"parameters": dict(parameters or {})},
        "changes": [{"from_day": 1, "meals": meals, **change}],
        "output": {"trajectory_days": [1]},
    }
    day = glucosim.simulate(parse_scenario(data, "validation"), progress=False).trajectories[1]
    hours, glucose, insulin = (day[name].to_numpy() for name in ("clock_h", "glucose_mg_dl", "insulin_pmol_l"))
    out = {}
    for hour in (8.0, 20.0):
        window = (hours >= hour) & (hours <= hour + 3.0)
        early = window & (hours <= hour + EARLY_PHASE_MIN / 60.0)
        late = window & (hours >= hour + EARLY_PHASE_MIN / 60.0)
        out[hour] = {
            "glucose": glucose[window].mean(),
            "early": float(np.trapezoid(insulin[early], hours[early])),
            "late": float(np.trapezoid(insulin[late], hours[late])),
        }
    return out


MISALIGNED_SLEEP_MIDPOINT_H = 15.0
"""Sleep 12 h out of phase with a day-worker's clock (mid-sleep 03:00): simulated night work."""


def misalignment_glucose_insulin_percent(parameters: dict | None = None) -> tuple[float, float]:
    """Change of postprandial glucose and insulin (3-h means over both meals), misaligned vs aligned, %.

    The measure of Scheer 2009's forced desynchrony (glucose +6 % despite insulin +22 % at 12-h misalignment)
    on glucosim's meal test; misalignment_sensitivity_loss is derived from it (models/parameters.toml).
    """
    aligned = meal_timing_responses(parameters)
    misaligned = meal_timing_responses(parameters, sleep_midpoint_h=MISALIGNED_SLEEP_MIDPOINT_H)

    def pooled(run: dict, measure: str) -> float:
        return sum(sum(run[hour][name] for name in measure.split("+")) for hour in (8.0, 20.0))

    return (
        _percent_change(pooled(misaligned, "glucose"), pooled(aligned, "glucose")),
        _percent_change(pooled(misaligned, "early+late"), pooled(aligned, "early+late")),
    )


def circadian_meal_timing() -> dict:
    aligned = meal_timing_responses()
    misaligned = meal_timing_responses(sleep_midpoint_h=MISALIGNED_SLEEP_MIDPOINT_H)

    def circadian_phase_percent(measure: str) -> float:
        # Morris's circadian phase effect: 20:00 (biological evening) against 08:00 (biological morning), pooled
        # over both protocols, so the behavioural cycle (the 08:00 meal is breakfast in day work and the night's
        # last meal in night work) averages out
        evening = aligned[20.0][measure] + misaligned[20.0][measure]
        morning = aligned[8.0][measure] + misaligned[8.0][measure]
        return _percent_change(evening, morning)

    def misalignment_percent(measure: str) -> float:
        # both meals of the night-work protocol against both of the day-work protocol
        return _percent_change(
            misaligned[8.0][measure] + misaligned[20.0][measure], aligned[8.0][measure] + aligned[20.0][measure]
        )

    return {
        "evening_vs_morning_glucose_percent": circadian_phase_percent("glucose"),
        "misalignment_glucose_percent": misalignment_percent("glucose"),
        "evening_vs_morning_early_insulin_percent": circadian_phase_percent("early"),
        "evening_vs_morning_late_insulin_percent": circadian_phase_percent("late"),
        "misalignment_early_insulin_percent": misalignment_percent("early"),
        "misalignment_late_insulin_percent": misalignment_percent("late"),
    }


def _vlcd_start_day() -> int:
    """First day of the very-low-calorie diet: the scenario's change labelled so (defined once, in the file)."""
    import tomllib

    data = tomllib.loads((SCENARIO_DIR / "21_vlcd_early_type2.toml").read_text())
    return next(int(change["from_day"]) for change in data["changes"] if change["label"] == "very-low-calorie diet")


VLCD_START_DAY = _vlcd_start_day()
"""First day of the very-low-calorie diet in scenario 21."""
VLCD_DAYS = 56


def liver_fat_vlcd() -> dict:
    import glucosim
    from glucosim.clinic.runner import run_protocol

    before, week1, week8 = VLCD_START_DAY, VLCD_START_DAY + 7, VLCD_START_DAY + VLCD_DAYS
    result = glucosim.simulate(
        SCENARIO_DIR / "21_vlcd_early_type2.toml",
        progress=False,
        until_day=VLCD_START_DAY + VLCD_DAYS + 1,
        state_days=(before, week8),
    )
    daily = result.daily  # indexed by day

    def first_phase(day: int) -> float:
        # Lim measured first-phase insulin secretion per m2 of body surface (a stepped secretion test read through
        # C-peptide); glucosim's nearest test is the IVGTT's first-phase secretion, per m2 of the day's surface
        from glucosim.physiology.body import body_surface_area_m2

        indices = run_protocol("ivgtt_0.3g", result.loaded, day=day, state=result.midnight_states[day]).indices
        p = result.loaded.parameters
        weight_kg = float(p[Par.body_weight]) + float(daily.loc[day, "weight_change_kg"])
        return float(indices["first_phase_secretion_pmol_min"]) / body_surface_area_m2(weight_kg, p)

    on_diet = daily.loc[before:week8]
    # 8 kg lost on the diet: counted from the diet's first day (the subject has already lost weight to glucosuria
    # by then; counted from the run's start, -8 kg came ~1.8 kg early)
    lost_on_diet_kg = on_diet["weight_change_kg"].to_numpy() - daily.loc[before, "weight_change_kg"]
    lost_8kg = int(on_diet.index[np.argmax(lost_on_diet_kg <= -8.0)])
    return {
        "liver_fat_week8_pct": daily.loc[week8, "liver_fat_pct"],
        "liver_fat_change_at_8kg_loss_percent": _percent_change(
            daily.loc[lost_8kg, "liver_fat_pct"], daily.loc[before, "liver_fat_pct"]
        ),
        "fasting_glucose_change_week1_percent": _percent_change(
            daily.loc[week1, "fasting_glucose_mg_dl"], daily.loc[before, "fasting_glucose_mg_dl"]
        ),
        "first_phase_insulin_ratio_week8": first_phase(week8) / first_phase(before),
    }


OLSEN_TWO_WEEK_ARM = (10501.0, 1344.0, 14)
"""Olsen 2008's second sub-study (n = 10): habitual steps, steps a day after the cut, days at them. The same ten men's
clamps are Krogh-Madsen 2010's (validation/cases/step_reduction.toml)."""
OLSEN_THREE_WEEK_ARM = (6203.0, 1394.0, 21)
"""Olsen 2008's first sub-study (n = 8), as OLSEN_TWO_WEEK_ARM."""


def step_reduction_arm(
    habitual_steps: float,
    reduced_steps: float,
    days: int,
    parameters: dict | None = None,
    ogtt: bool = True,
    clamp: bool = True,
) -> dict:
    """A healthy adult (the healthy preset living the reference day, ``steps_reference`` = ``habitual_steps``) who
    takes ``reduced_steps`` a day from day 1, tested on day 0 and on day ``days``.

    Returns the changes (%) of the 75 g OGTT's 3-h insulin area (``ogtt_insulin_auc_change_percent``, if ``ogtt``)
    and of the euglycaemic clamp's glucose infusion rate (``clamp_infusion_rate_change_percent``, if ``clamp``: the
    validation cases' clamp, 40 mU/m2/min at CLAMP_TARGET_MG_DL). ``parameters`` change the subject's (the derivation
    of models/parameters.toml#inactivity_sensitivity_loss runs this with other losses).
    """
    from glucosim.clinic.runner import run_protocol
    from glucosim.scenario.load import parse_scenario

    meals = load_toml(_reference_routine_path())["meals"]
    scenario = parse_scenario(
        {
            "name": "fewer steps",
            "duration_days": days + 1,
            "subject": {"parameters": {"steps_reference": habitual_steps, **(parameters or {})}},
            "routine": {"meals": meals},
            "changes": [{"from_day": 1, "daily_steps": reduced_steps}],
        },
        "validation",
    )

    def insulin_area(day: int) -> float:
        samples = run_protocol("ogtt_75g", scenario, day=day).samples
        samples = samples[samples["time_min"] <= 180.0]
        return float(np.trapezoid(samples["insulin_uU_ml"], samples["time_min"]))

    changes = {}
    if ogtt:
        changes["ogtt_insulin_auc_change_percent"] = _percent_change(insulin_area(days), insulin_area(0))
    if clamp:
        protocol = _euglycemic_clamp()
        before, after = (run_protocol(protocol, scenario, day=day).indices for day in (0, days))
        changes["clamp_infusion_rate_change_percent"] = _percent_change(
            after["m_value_mg_kg_min"], before["m_value_mg_kg_min"]
        )
    return changes


def step_reduction() -> dict:
    # the 2-week sub-study's clamp is inactivity_sensitivity_loss's calibration target (tests/test_step_reduction.py)
    two_weeks = step_reduction_arm(*OLSEN_TWO_WEEK_ARM, clamp=False)
    three_weeks = step_reduction_arm(*OLSEN_THREE_WEEK_ARM, clamp=False)
    return {
        "ogtt_insulin_auc_change_percent": two_weeks["ogtt_insulin_auc_change_percent"],
        "three_week_ogtt_insulin_auc_change_percent": three_weeks["ogtt_insulin_auc_change_percent"],
    }


KIRK_DIET_DAY = 3
"""The 48-h diet starts at midnight of this day; its first morning's fasting state still follows the usual dinner."""
KIRK_BEFORE_BREAKFAST_H = 7.4
"""Just before the usual breakfast (07:30), ~12.5 h after dinner: glucosim's basal (post-absorptive) state."""
KIRK_USUAL_MEALS = (
    {"time_h": 7.5, "carbs_g": 60.0},
    {"time_h": 12.5, "carbs_g": 80.0},
    {"time_h": 19.0, "carbs_g": 80.0},
)
"""The weight-stable diet before the trial: 220 g carbohydrate a day (Kirk's baseline diet was not read)."""


def _kirk_diet(carbs_g: float, fat_g: float, protein_g: float) -> list[dict]:
    return [{"time_h": hour, "carbs_g": carbs_g, "fat_g": fat_g, "protein_g": protein_g} for hour in (8.0, 13.0, 19.0)]


KIRK_DIETS = {
    # both ~1,100 kcal/day: Kirk's energy content was not read in the abstract
    "low_carbohydrate": _kirk_diet(15.0, 22.0, 30.0),  # 45 g carbohydrate a day (Kirk: < 50 g)
    "high_carbohydrate": _kirk_diet(65.0, 5.0, 15.0),  # 195 g a day (Kirk: > 180 g)
}


def basal_output_change_48h_percent(diet: list[dict], parameters: dict | None = None) -> float:
    """Change of glucose production before breakfast from a diet's first morning to 48 h later, %.

    An obese non-diabetic adult (the insulin_resistant preset) eats ``diet`` from midnight of KIRK_DIET_DAY
    and nothing else; ``parameters`` change the subject's parameters (diagnostics of what the change rests on).
    """
    import glucosim

    scenario = {
        "name": "Kirk 2009 energy-deficit diet",
        "duration_days": KIRK_DIET_DAY + 3,
        "subject": {"preset": "insulin_resistant", "parameters": dict(parameters or {})},
        "routine": {"meals": [dict(meal) for meal in KIRK_USUAL_MEALS]},
        "changes": [{"from_day": KIRK_DIET_DAY, "label": "diet", "other_food_kcal_per_day": 0, "meals": diet}],
    }
    result = glucosim.simulate(scenario, progress=False)

    def basal(day: int) -> float:
        trace = result.trace(day)
        row = int(np.argmin(np.abs(trace["clock_h"].to_numpy() - KIRK_BEFORE_BREAKFAST_H)))
        return float(trace["liver_output_mg_kg_min"].iloc[row])

    return _percent_change(basal(KIRK_DIET_DAY + 2), basal(KIRK_DIET_DAY))


def carbohydrate_restriction_48h() -> dict:
    return {
        f"basal_output_change_{arm}_percent": basal_output_change_48h_percent(diet) for arm, diet in KIRK_DIETS.items()
    }


def _reference_routine_path():
    from glucosim.clinic.runner import REFERENCE_ROUTINE_PATH

    return REFERENCE_ROUTINE_PATH


WALK_TEST_DAY = 181
"""Duncan 2003's 6 months; weekday 6 of the run's week, a rest day: its morning test (07:30, before breakfast)
comes ~37 h after the last session (Friday 18:00-18:30). Days 180 and 182 give ~13 and ~61 h."""
WALK_SESSION = {"start_h": 18.0, "duration_min": 30.0, "intensity_pct_vo2max": 60.0, "weekdays": [0, 1, 2, 3, 4]}
"""The middle of Duncan's four prescriptions (30 min on 3-4 or 5-7 days, at ~54 or ~72 % VO2max)."""
WALK_SUBJECT = {"insulin_sensitivity_whole_body": 0.75, "body_weight": 88.5, "age_years": 52.0}
"""Duncan's mean adult (BMI 28.9 at glucosim's 175 cm, 52 years); sensitivity 0.75 puts the baseline IVGTT SI (2.58)
nearest Duncan's 2.54 in steps of 0.05 (0.7: 2.34, 0.8: 2.82) (the rule: walking_sensitivity_by_rule, checked by
`glucosim validation --subjects` and tests/test_validation_subjects.py). Re-chosen by the rule on 2026-12-07
(twenty-eighth session), when the second phase gained its slow part (secretion_slow_share): 0.8 before (SI 2.61,
0.75: 2.41). Re-chosen by the rule on 2026-12-06
(twentieth session), when the diabetic liver's glycogen balance was calibrated
(validation/targets/type2_liver_glycogen.toml): 0.75 before (SI 2.47, fasting insulin 9.2 uU/ml; 0.8: 2.69). Re-chosen
by the same rule on 2026-12-06, when the minimal-model fit became Bayesian (clinic/minimal_model.py, a
population prior on p2): 0.25 before (SI 2.40 on the free fit, whose p2 ended on its bound; fasting insulin ~37 uU/ml),
0.8 before restructure (c) of insulin secretion (SI 2.44), when the IVGTT's second phase was ~4 times people's."""


def walking_energy_kcal_per_day(session: dict = WALK_SESSION, weight_kg: float = WALK_SUBJECT["body_weight"]) -> float:
    """The sessions' energy above rest, averaged over the week, kcal/day: glucosim's own cost of exercise, the
    model's ``physiology.body.exercise_expenditure_kcal_day`` at the session's intensity and the starting weight
    (the cost of a session is its rate x its share of the day)."""
    import numpy as np

    from glucosim.parameters import load_parameter_table
    from glucosim.physiology.body import exercise_expenditure_kcal_day
    from glucosim.physiology.indices import STATE_NAMES, St

    p = load_parameter_table().vector({"body_weight": weight_kg})
    y = np.zeros(len(STATE_NAMES))
    y[St.exercise_vo2_pct] = session["intensity_pct_vo2max"]  # weight_change_kg 0: the starting weight
    rate_kcal_day = float(exercise_expenditure_kcal_day(y, p))
    return rate_kcal_day * session["duration_min"] / MINUTES_PER_DAY * len(session["weekdays"]) / 7.0


EAT_BACK_ENERGY_SHARES = {"carbs_g": 0.50, "fat_g": 0.30, "protein_g": 0.20}
"""How the exercise cases' subjects eat their sessions' energy back: as mixed food, 50 % of its energy carbohydrate,
30 % fat and 20 % protein (a choice inside the Institute of Medicine's acceptable ranges, 45-65, 20-35 and 10-35 %).
Until 2026-12-06 the cases ate it back as energy alone (``energy_surplus_kcal_per_day``), which reaches the energy
balance but not the gut: no carbohydrate replaced the glycogen each session's hepatic output draws, and a week of
Bloem's sessions drained even a healthy liver (store 519 -> 207 mg/kg, fasting glucose 80 -> 64 mg/dl) where people's
fasting glucose does not move (Bloem 2008)."""
EAT_BACK_DELAY_MIN = 30.0
"""The eaten-back food is a snack this long after each session ends (a choice; Duncan's falls on dinner's time)."""


def eaten_back_snack(session: dict, weight_kg: float) -> dict:
    """The food that eats ``session``'s energy back: a meal (scenario Meal fields) of ``walking_energy_kcal_per_day``
    split by ``EAT_BACK_ENERGY_SHARES`` at the parameter table's Atwater factors, ``EAT_BACK_DELAY_MIN`` after the
    session. Taken every day (sessions on fewer days are eaten back at their weekly mean, as their energy was)."""
    from glucosim.parameters import load_parameter_table
    from glucosim.physiology.body import atwater_kcal_per_g

    kcal_per_g = atwater_kcal_per_g(load_parameter_table().vector())
    kcal = walking_energy_kcal_per_day(session, weight_kg)
    end_h = session["start_h"] + (session["duration_min"] + EAT_BACK_DELAY_MIN) / MINUTES_PER_HOUR
    return {"time_h": end_h} | {name: kcal * share / kcal_per_g[name] for name, share in EAT_BACK_ENERGY_SHARES.items()}


def meals_with_eaten_back_snack(meals: list[dict], session: dict, weight_kg: float) -> list[dict]:
    """``meals`` (the day's, as scenario Meal fields) and ``eaten_back_snack``, in time order; a snack at a meal's time
    is eaten with it. ``meals`` is not changed."""
    snack = eaten_back_snack(session, weight_kg)
    meals = [dict(meal) for meal in meals]
    same_time = [meal for meal in meals if abs(meal["time_h"] - snack["time_h"]) < 1e-9]
    if same_time:
        for name in EAT_BACK_ENERGY_SHARES:
            same_time[0][name] = same_time[0].get(name, 0.0) + snack[name]
    else:
        meals.append(snack)
    return sorted(meals, key=lambda meal: meal["time_h"])


def walking_scenario(trained: bool, parameters: dict | None = None, n_days: int = WALK_TEST_DAY + 1, session=None):
    """Duncan's subject for ``n_days``, with the walking from day 1 (its energy eaten back) or without it."""
    from glucosim.scenario.load import parse_scenario

    session = dict(session or WALK_SESSION)
    subject = {**WALK_SUBJECT, **(parameters or {})}
    reference_meals = load_toml(_reference_routine_path())["meals"]
    walking = {"from_day": 1, "label": "walk training", "exercise": [session]}
    walking["meals"] = meals_with_eaten_back_snack(reference_meals, session, subject["body_weight"])
    return parse_scenario(
        {
            "name": "walk training" if trained else "untrained",
            "duration_days": n_days,
            "subject": {"parameters": subject},
            "routine": {"meals": reference_meals},
            "changes": [walking] if trained else [],
        },
        "validation",
    )


def walking_training_ivgtt(
    trained: bool,
    parameters: dict | None = None,
    days: tuple[int, ...] = (WALK_TEST_DAY,),
    session: dict = WALK_SESSION,
) -> dict[int, dict]:
    """IVGTT indices (and the day's weight change) of Duncan's subject on ``days``, with or without the walking.

    The walking starts on day 1 (a run starts adapted to its first day's routine, so training from day 0 would
    be a subject already trained), with its energy eaten back from the same day so that weight stays where it
    was (Duncan: BMI unchanged). ``parameters`` change the subject's parameters (diagnostics of what the
    result rests on, e.g. training_gain 0, or another subject); ``session`` replaces Duncan's walking (e.g. the
    DPP's walk, tools/walking_case.py).
    """
    import glucosim
    from glucosim.clinic.runner import run_protocol

    scenario = walking_scenario(trained, parameters, max(days) + 1, session)
    result = glucosim.simulate(scenario, progress=False, state_days=days)
    out = {}
    for day in days:
        indices = dict(run_protocol("ivgtt_0.3g", result.loaded, day=day, state=result.midnight_states[day]).indices)
        indices["weight_change_kg"] = float(result.daily.loc[day, "weight_change_kg"])
        out[day] = indices
    return out


GRID_SEARCH_MAX_STEPS = 20
"""How far a subject's rule walks along its grid before it gives up: a model change that moves a subject that far
wants a look, not a silent re-choice."""


DUNCAN_BASELINE_SI = 2.54
"""Duncan 2003's baseline minimal-model SI (x 1e-4 /min per uU/ml; the case file
walking_training_without_weight_loss.toml), which the walking subject's rule aims at."""
WALK_SENSITIVITY_STEP = 0.05
"""The walking subject's sensitivity is chosen on this grid (round values: the rule picks a subject, fits nothing)."""


def walking_baseline_si(sensitivity: float) -> float:
    """Baseline IVGTT SI (untrained, on WALK_TEST_DAY) of the walking subject at ``sensitivity`` (whole body)."""
    untrained = walking_training_ivgtt(False, {"insulin_sensitivity_whole_body": sensitivity})[WALK_TEST_DAY]
    return float(untrained["si_1e4_per_min_per_uU_ml"])


def walking_sensitivity_by_rule(start: float | None = None) -> tuple[float, dict[float, float]]:
    """The walking subject's rule: the sensitivity on WALK_SENSITIVITY_STEP's grid whose baseline IVGTT SI is nearest
    DUNCAN_BASELINE_SI, searched from ``start`` (default: the shipped one) along the grid (SI rises with sensitivity).

    Returns:
        (the chosen sensitivity, the baseline SI at every sensitivity measured).

    Raises:
        ValueError: the nearest point is not found within the sensitivity's plausible range or GRID_SEARCH_MAX_STEPS.
    """
    return _nearest_on_grid(
        walking_baseline_si,
        WALK_SUBJECT["insulin_sensitivity_whole_body"] if start is None else start,
        WALK_SENSITIVITY_STEP,
        DUNCAN_BASELINE_SI,
    )


class _GridWalk:
    """A walk along a subject's sensitivity grid (start + k step), inside the parameter's plausible range, that
    measures each point once (round(x, 6): 0.1 + 0.2 is the grid's 0.3) and keeps every value measured."""

    def __init__(self, measure: Callable[[float], float], start: float, step: float):
        from glucosim.parameters import load_parameter_table

        row = load_parameter_table()["insulin_sensitivity_whole_body"]
        self.low, self.high = row.low, row.high
        self.measure, self.start, self.step = measure, round(start, 6), step
        self.measured: dict[float, float] = {}
        if not self.inside(self.start):
            raise ValueError(f"the start {start:g} is outside the sensitivity's range [{self.low:g}, {self.high:g}]")

    def inside(self, x: float) -> bool:
        return self.low <= x <= self.high

    def next(self, x: float, direction: float) -> float:
        """The next grid point from ``x`` in ``direction`` (+1 or -1); ValueError if it leaves the range."""
        following = round(x + direction * self.step, 6)
        if not self.inside(following):
            raise ValueError(
                f"the rule's walk from {self.start:g} in steps of {self.step:g} left the sensitivity's range "
                f"[{self.low:g}, {self.high:g}] at {following:g}: measured {self.values()}"
            )
        return following

    def at(self, x: float) -> float:
        x = round(x, 6)
        if x not in self.measured:
            self.measured[x] = self.measure(x)
        return self.measured[x]

    def values(self) -> dict[float, float]:
        return dict(sorted(self.measured.items()))

    def too_far(self) -> ValueError:
        return ValueError(
            f"the rule found no answer within {GRID_SEARCH_MAX_STEPS} steps of {self.step:g} from {self.start:g}: "
            f"measured {self.values()}"
        )


def _nearest_on_grid(
    measure: Callable[[float], float], start: float, step: float, target: float
) -> tuple[float, dict[float, float]]:
    """The grid point whose ``measure`` (rising with x) is nearest ``target``, and every value measured."""
    walk = _GridWalk(measure, start, step)
    x = walk.start
    direction = 1.0 if walk.at(x) < target else -1.0
    # walk towards the target while the next point is nearer; the measure rises with x, so the far side is farther.
    # A target beyond the range is an error, not the range's edge returned as "nearest".
    for _ in range(GRID_SEARCH_MAX_STEPS):
        following = walk.next(x, direction)
        if abs(walk.at(following) - target) >= abs(walk.at(x) - target):
            return x, walk.values()
        x = following
    raise walk.too_far()


def walking_training_without_weight_loss() -> dict:
    trained = walking_training_ivgtt(True)[WALK_TEST_DAY]
    untrained = walking_training_ivgtt(False)[WALK_TEST_DAY]
    return {
        "si_change_percent": _percent_change(trained["si_1e4_per_min_per_uU_ml"], untrained["si_1e4_per_min_per_uU_ml"])
    }


BLOEM_TEST_DAY = 8
"""Bloem & Chang 2008: seven consecutive days of exercise (days 1-7), the FSIVGTT on the next morning (day 8)."""
BLOEM_HEART_RATE_RESERVE_FRACTION = 0.65
"""The middle of Bloem's 60-70 % of heart-rate reserve, taken as the same fraction of VO2 reserve (as the walking
case took Duncan's)."""
BLOEM_SESSION_START_H = 13.0
"""The seventh session ends at 14:00, 17.5 h before the morning test at 07:30 (the middle of Bloem's 15-20 h)."""
BLOEM_PRESET = "insulin_resistant_low_reserve"
BLOEM_SENSITIVITY = 0.44
"""The Bloem subject's whole-body sensitivity, by the rule below (the highest in steps of 0.02 with an IGT 2-h OGTT
glucose; bloem_sensitivity_by_rule, checked by `glucosim validation --subjects` and
tests/test_validation_subjects.py): 0.44 since the second phase gained its slow part (2026-12-07, twenty-eighth
session, secretion_slow_share: 141.0 mg/dl at 0.44, 138.2 at 0.46; the meal's insulin comes later, so the 2-h glucose
is higher at each sensitivity); 0.40 since GLP-1's share of the carbohydrate incretin acts below GIP's glucose
gate (2026-12-07, carbohydrate_incretin_glp1_share: 140.5 mg/dl at 0.40, 137.2 at 0.42, 144.1 at 0.38); 0.38 under
restructure (c) (2026-12-06: 142.1 mg/dl at 0.38, 138.3 at 0.40), kept by the rule when the diabetic liver's glycogen
balance was calibrated (2026-12-06, twentieth session: validation/targets/type2_liver_glycogen.toml; 142.5 mg/dl at
0.38, 138.9 at 0.40); 0.26 before it, since the first phase saturated (first_phase_max_rate, 2026-12-05 evening:
140.7 mg/dl at 0.26, 137.2 at 0.28)."""
BLOEM_SUBJECT = {
    "insulin_sensitivity_whole_body": BLOEM_SENSITIVITY,
    "beta_function_max": STAGE_TWO_RESERVE,
    "body_weight": STAGE_TWO_WEIGHT_KG,
    "age_years": 70.0,
}
"""An older adult with IGT: scenario 3's subject (its preset) at the course calibration's stage-2 reserve and
weight (glucosim.calibration.course.STAGE_TWO_*: the DPP's enrolled reserve and baseline weight), aged
70 (Bloem: >= 60). Its baseline 2-h OGTT glucose is IGT's (>= 140 mg/dl): the highest sensitivity in steps of 0.02
that is, so the IGT subject with the lowest fasting glucose at that reserve (the case file says why)."""


BLOEM_IGT_TWO_HOUR_GLUCOSE_MG_DL = 140.0
"""The 2-h OGTT glucose from which tolerance is impaired (WHO), the Bloem subject's rule's bound."""
BLOEM_SENSITIVITY_STEP = 0.02
"""The Bloem subject's sensitivity is chosen on this grid."""


def bloem_two_hour_glucose(sensitivity: float) -> float:
    """Baseline 75 g OGTT 2-h glucose (mg/dl, day 0) of the Bloem subject at ``sensitivity`` (whole body)."""
    baseline = short_term_exercise_ivgtt(False, {"insulin_sensitivity_whole_body": sensitivity}, ogtt=True)
    return float(baseline["ogtt_two_hour_glucose_mg_dl"])


def bloem_sensitivity_by_rule(start: float | None = None) -> tuple[float, dict[float, float]]:
    """The Bloem subject's rule: the highest sensitivity on BLOEM_SENSITIVITY_STEP's grid whose baseline 2-h OGTT
    glucose is IGT's (>= BLOEM_IGT_TWO_HOUR_GLUCOSE_MG_DL), searched from ``start`` (default: the shipped one) along
    the grid (the 2-h glucose falls as sensitivity rises).

    Returns:
        (the chosen sensitivity, the 2-h glucose at every sensitivity measured).

    Raises:
        ValueError: no answer within the sensitivity's plausible range or GRID_SEARCH_MAX_STEPS.
    """
    return _highest_on_grid_where(
        bloem_two_hour_glucose,
        lambda two_hour: two_hour >= BLOEM_IGT_TWO_HOUR_GLUCOSE_MG_DL,
        BLOEM_SENSITIVITY if start is None else start,
        BLOEM_SENSITIVITY_STEP,
    )


def _highest_on_grid_where(
    measure: Callable[[float], float], holds: Callable[[float], bool], start: float, step: float
) -> tuple[float, dict[float, float]]:
    """The highest grid point at which ``holds(measure(x))``, for a condition that holds below some point and not
    above it, searched from ``start``; and every value measured."""
    walk = _GridWalk(measure, start, step)
    x = walk.start
    if holds(walk.at(x)):
        for _ in range(GRID_SEARCH_MAX_STEPS):
            following = walk.next(x, 1.0)
            if not holds(walk.at(following)):
                return x, walk.values()
            x = following
    else:
        for _ in range(GRID_SEARCH_MAX_STEPS):
            x = walk.next(x, -1.0)
            if holds(walk.at(x)):
                return x, walk.values()
    raise walk.too_far()


BLOEM_STATES = (
    "post_exercise_sensitivity",
    "training_level",
    "beta_function_rel",
    "beta_mass_rel",
    "liver_glycogen_mg_kg",
)
"""States reported with the test (at midnight before it): the post-exercise and training terms, the beta cells, and
the liver's glycogen store (which the sessions draw on and the eaten-back food refills)."""


def bloem_intensity_pct_vo2max(reserve_fraction: float = BLOEM_HEART_RATE_RESERVE_FRACTION) -> float:
    """% VO2max of a fraction of heart-rate reserve, taken as that fraction of VO2 reserve above glucosim's rest."""
    from glucosim.parameters import load_parameter_table

    rest = load_parameter_table()["resting_intensity"].value
    return rest + reserve_fraction * (100.0 - rest)


def bloem_session(start_h: float = BLOEM_SESSION_START_H, reserve_fraction: float = BLOEM_HEART_RATE_RESERVE_FRACTION):
    """Bloem's daily session: 1 h at the intensity of ``reserve_fraction`` of heart-rate reserve, every day."""
    return {
        "start_h": start_h,
        "duration_min": 60.0,
        "intensity_pct_vo2max": bloem_intensity_pct_vo2max(reserve_fraction),
        "weekdays": [0, 1, 2, 3, 4, 5, 6],
    }


def glucose_disappearance_kg_percent_per_min(samples) -> float:
    """Kg: the slope of ln glucose from 10 to 19 min of an IVGTT, in % per minute (positive = falling)."""
    window = samples[(samples["time_min"] >= 10.0) & (samples["time_min"] <= 19.0)]
    slope = np.polyfit(window["time_min"].to_numpy(), np.log(window["glucose_mg_dl"].to_numpy()), 1)[0]
    return -100.0 * float(slope)


def short_term_exercise_ivgtt(
    exercised: bool,
    parameters: dict | None = None,
    session: dict | None = None,
    ogtt: bool = False,
) -> dict:
    """FSIVGTT indices (with Kg) of Bloem's subject on the morning of BLOEM_TEST_DAY, with or without the 7 days.

    The sessions (``session``, default Bloem's) run on days 1-7 with their energy eaten back on the same days
    (Bloem: body weight unchanged), and stop on day 8. ``parameters`` change the subject's parameters
    (diagnostics, e.g. training_gain 0). ``ogtt`` adds the 75 g OGTT's 2-h glucose on day 0 (the subject's
    baseline, before any session).
    """
    import glucosim
    from glucosim.clinic.runner import run_protocol
    from glucosim.physiology.indices import STATE_NAMES
    from glucosim.scenario.load import parse_scenario

    subject = {**BLOEM_SUBJECT, **(parameters or {})}
    session = dict(session or bloem_session())
    exercise = {"from_day": 1, "label": "7 days of exercise", "exercise": [session]}
    reference_meals = load_toml(_reference_routine_path())["meals"]
    exercise["meals"] = meals_with_eaten_back_snack(reference_meals, session, subject["body_weight"])
    stop = {"from_day": BLOEM_TEST_DAY, "label": "test day", "exercise": [], "meals": reference_meals}
    scenario = parse_scenario(
        {
            "name": "7 days of exercise" if exercised else "no exercise",
            "duration_days": BLOEM_TEST_DAY + 1,
            "subject": {"preset": BLOEM_PRESET, "parameters": subject},
            "routine": {"meals": reference_meals},
            "changes": [exercise, stop] if exercised else [],
        },
        "validation",
    )
    result = glucosim.simulate(scenario, progress=False, state_days=(0, BLOEM_TEST_DAY))
    test = run_protocol("ivgtt_0.3g", result.loaded, day=BLOEM_TEST_DAY, state=result.midnight_states[BLOEM_TEST_DAY])
    out = dict(test.indices)
    out["kg_percent_per_min"] = glucose_disappearance_kg_percent_per_min(test.samples)
    out["weight_change_kg"] = float(result.daily.loc[BLOEM_TEST_DAY, "weight_change_kg"])
    # the 24-h mean glucose of the seventh day, against glucose_setpoint: what drives beta-cell adaptation
    out["day7_mean_glucose_mg_dl"] = float(result.daily.loc[BLOEM_TEST_DAY - 1, "mean_glucose_mg_dl"])
    for name in BLOEM_STATES:  # at midnight before the test: which mechanism carries the change
        out[name] = float(result.midnight_states[BLOEM_TEST_DAY][STATE_NAMES.index(name)])
    if ogtt:
        oral = run_protocol("ogtt_75g", result.loaded, day=0, state=result.midnight_states[0]).indices
        out["ogtt_fasting_glucose_mg_dl"] = float(oral["fasting_glucose_mg_dl"])
        out["ogtt_two_hour_glucose_mg_dl"] = float(oral["two_hour_glucose_mg_dl"])
    return out


GASTRIC_TEST_MEAL = {"time_h": 8.0, "carbs_g": 43.0, "protein_g": 16.0, "fat_g": 2.0}
"""The consensus scintigraphy meal (egg white, two slices of toast, jam; ~256 kcal): its macronutrients estimated from
food tables for the ingredients (validation/cases/gastric_emptying_scintigraphy.toml)."""
GASTRIC_RETENTION_HOURS = (1.0, 2.0, 4.0)


def gastric_emptying_scintigraphy() -> dict:
    """Percent of the test meal's carbohydrate still in the stomach 1, 2 and 4 h after it (Tougas 2000's times)."""
    import glucosim

    scenario = _reference_scenario(duration_days=2, meals=[GASTRIC_TEST_MEAL])
    result = glucosim.simulate(scenario, progress=False, trajectory_days=(1,))
    trace = result.trace(1)
    stomach = (trace["stomach_solid_mg_kg"] + trace["stomach_liquid_mg_kg"]).to_numpy()
    clock_h = trace["clock_h"].to_numpy()
    meal_h = GASTRIC_TEST_MEAL["time_h"]
    empty = float(np.interp(meal_h - 0.25, clock_h, stomach))  # what the stomach holds before the meal: ~0
    # the meal itself, not the first sample after it: by then the stomach has emptied for part of a sampling step
    # (read so until 2026-12-06, which put every retention ~3 % of itself too high)
    eaten = grams_to_mg_per_kg(GASTRIC_TEST_MEAL["carbs_g"], result.loaded.parameters[Par.body_weight])
    return {
        f"retention_{hours:g}h_percent": 100.0 * (float(np.interp(meal_h + hours, clock_h, stomach)) - empty) / eaten
        for hours in GASTRIC_RETENTION_HOURS
    }


def short_term_exercise_igt() -> dict:
    exercised = short_term_exercise_ivgtt(True)
    control = short_term_exercise_ivgtt(False)
    return {
        f"{name}_change_percent": _percent_change(exercised[key], control[key])
        for name, key in (
            ("si", "si_1e4_per_min_per_uU_ml"),
            ("airg", "air_glucose_uU_ml"),
            ("disposition_index", "disposition_index"),
        )
    }


CASE_FUNCTIONS = {
    "basal_glucose_use": basal_glucose_use,
    "meal_response_dalla_man": meal_response_dalla_man,
    "clamp_type2_vs_control": clamp_type2_vs_control,
    "one_night_short_sleep": one_night_short_sleep,
    "exercise_uptake_and_after_effect": exercise_uptake_and_after_effect,
    "disposition_index": disposition_index,
    "progression_shape": progression_shape,
    "ha_sherman_reproduction": ha_sherman_reproduction,
    "topp_reproduction": topp_reproduction,
    "ogtt_across_stages": ogtt_across_stages,
    "protein_with_glucose_type2": protein_with_glucose_type2,
    "energy_balance_weight": energy_balance_weight,
    "fasting_glycogen_gluconeogenesis": fasting_glycogen_gluconeogenesis,
    "mixed_meals_cgm": mixed_meals_cgm,
    "circadian_meal_timing": circadian_meal_timing,
    "liver_fat_vlcd": liver_fat_vlcd,
    "step_reduction": step_reduction,
    "carbohydrate_restriction_48h": carbohydrate_restriction_48h,
    "incretin_effect": incretin_effect,
    "graded_glucose_infusion": graded_glucose_infusion,
    "hyperglycemic_clamp_second_phase": hyperglycemic_clamp_second_phase,
    "walking_training_without_weight_loss": walking_training_without_weight_loss,
    "short_term_exercise_igt": short_term_exercise_igt,
    "gastric_emptying_scintigraphy": gastric_emptying_scintigraphy,
    "ivgtt_time_course_healthy": ivgtt_time_course_healthy,
    "insulin_dose_response_rizza": insulin_dose_response_rizza,
    "basal_glucose_output_type2": basal_glucose_output_type2,
}


def evaluate(case: Case) -> Case:
    """Fill in glucosim's value of every quantity of ``case``."""
    values = CASE_FUNCTIONS[case.id]()
    for quantity in case.quantities:
        quantity.value = float(values[quantity.name])
    return case


def select_cases(only: Sequence[str] | None = None) -> list[Case]:
    """The case files, every one or only those whose ids ``only`` names (in the files' order, each once).

    Refuses, before anything runs: an id that names no case (with the ids there are), an empty selection, and a
    bare string (a sequence of letters, not of ids).
    """
    cases = load_cases()
    missing = {case.id for case in cases} - set(CASE_FUNCTIONS)
    if missing:
        raise KeyError(f"validation cases without a function: {sorted(missing)}")
    if only is None:
        return cases
    if isinstance(only, str):
        raise TypeError(f"only takes a sequence of case ids, not one string ({only!r}): give [{only!r}]")
    ids = [case.id for case in cases]
    unknown = [name for name in only if name not in ids]
    if unknown or not only:
        named = f"no validation case {', '.join(map(repr, unknown))}" if unknown else "no validation case named"
        raise ValueError(f"{named}; the cases: {', '.join(ids)}")
    wanted = set(only)
    return [case for case in cases if case.id in wanted]


def run_validation(progress: bool = False, only: Sequence[str] | None = None) -> list[Case]:
    """Evaluate every case, or only the cases whose ids ``only`` names (``select_cases``, which checks them first)."""
    cases = select_cases(only)
    iterator = cases
    if progress:
        from tqdm.auto import tqdm

        iterator = tqdm(cases, unit="case", desc="validation")
    return [evaluate(case) for case in iterator]
