"""glucosim's value of each target at a given parameter vector.

Every evaluation first solves the *reference day* (the conditions that define
the healthy subject rather than fit it): secretion_max such that the healthy
preset, living the reference day of scenarios/01_healthy_baseline.toml at
beta-cell mass = function = 1, has a 24-h mean glucose equal to
glucose_setpoint; and insulin_mean_reference equal to that day's mean insulin
(sensitivity is measured against it, so the two are solved jointly). Then each
target's clinic protocol runs on its subject preset with the parameter vector
and the solved reference values, the way ``glucosim clinic`` runs it.
"""

from __future__ import annotations

import hashlib
import math
from pathlib import Path
from typing import Any

import numpy as np
from scipy.optimize import brentq

from glucosim.calibration.targets import (
    GLUCONEOGENIC_SHARE_MEASURE,
    INCRETIN_RATIO_MEASURE,
    PROTEIN_RATIO_MEASURE,
    SENSITIVITY_STEP_ARMS,
    SENSITIVITY_STEP_MEASURE,
    TYPE2_GLYCOGEN_MEASURE,
    TYPE2_GLYCOGEN_READINGS,
    Target,
)
from glucosim.errors import CalibrationError
from glucosim.physiology.units import DAYS_PER_YEAR, MG_DL_PER_MMOL_L

PACKAGE_DIR = Path(__file__).resolve().parents[1]
REFERENCE_SCENARIO = PACKAGE_DIR / "scenarios" / "01_healthy_baseline.toml"
TYPE2_SCENARIO = PACKAGE_DIR / "scenarios" / "03_insulin_resistance_low_reserve.toml"
"""The course's subject (sensitivity drifting, low reserve), whose type 2 diabetes the liver-glycogen targets read."""
FATTY_LIVER_SCENARIO = PACKAGE_DIR / "scenarios" / "21_vlcd_early_type2.toml"
"""Scenario 03's subject with a fatty liver (the very-low-calorie diet case's), whose gluconeogenic share at diagnosis
is the fasting share of type 2 diabetes (GLUCONEOGENIC_SHARE_MEASURE)."""
REFERENCE_PARAMETERS = ("secretion_max", "insulin_mean_reference", "nefa_mean_reference")
"""Solved by the reference day at every evaluation, never free in the fit."""


def secretion_max_bracket() -> tuple[float, float]:
    """pmol/kg/min: where the reference day's root is searched, the table's plausible range of secretion_max (one
    definition: the bracket was a copy of the range in code, so widening the range left the search where it was)."""
    from glucosim.parameters import load_parameter_table

    row = load_parameter_table()["secretion_max"]
    return row.low, row.high


FIXED_POINT_ITERATIONS = 20
FIXED_POINT_TOLERANCE_PMOL_L = 1e-3
SECRETION_XTOL = 1e-5
SECRETION_GUESS_HALF_WIDTH = 0.02
"""Relative half-width of the bracket around the first root in the reference day's second iterate (the first
searches all of secretion_max_bracket(); later ones are twice their predicted move wide, at least
SECRETION_GUESS_MIN_HALF_WIDTH; a root outside a narrow bracket is searched for on its side, up to the range's end)."""
SECRETION_GUESS_MIN_HALF_WIDTH = 1e-3

MODEL_SOURCES = (
    "physiology",
    "solver",
    "scenario",
    "simulation",
    "clinic",
    "parameters.py",
    "models",
    "protocols",
    "calibration/measure.py",
)
"""What a measurement depends on (relative to the package): its hash keys the evaluation cache."""


def model_source_hash(overridden: tuple[str, ...] = ()) -> str:
    """Hash of every source and data file that can change a measurement (16 hex digits).

    The parameter table counts by its values and ranges, without the values of ``overridden`` (the free
    parameters and the reference day's, set at every evaluation): writing a fit's result into the table,
    or editing a source text, keeps the cache valid, so a rerun after ``--write`` replays from it.
    """
    import json

    from glucosim._toml import load_toml
    from glucosim.physiology.indices import PARAMETER_TABLE_PATH

    masked = set(overridden) | set(REFERENCE_PARAMETERS)
    table = load_toml(PARAMETER_TABLE_PATH)
    digest = hashlib.sha256()
    digest.update(
        json.dumps(
            [(name, None if name in masked else entry["value"], entry["range"]) for name, entry in table.items()]
        ).encode()
    )
    for entry in MODEL_SOURCES:
        path = PACKAGE_DIR / entry
        files = sorted(p for p in path.rglob("*") if p.suffix in (".py", ".toml")) if path.is_dir() else [path]
        for file in files:
            if file.resolve() == PARAMETER_TABLE_PATH.resolve():
                continue
            digest.update(str(file.relative_to(PACKAGE_DIR)).encode())
            digest.update(file.read_bytes())
    digest.update(REFERENCE_SCENARIO.read_bytes())
    digest.update(TYPE2_SCENARIO.read_bytes())
    digest.update(FATTY_LIVER_SCENARIO.read_bytes())
    return digest.hexdigest()[:16]


# ---------------------------------------------------------------- the reference day
def _reference_program(overrides: dict):
    from glucosim.physiology.indices import Par
    from glucosim.scenario.compile import ScenarioProgram
    from glucosim.scenario.load import load_scenario

    program = ScenarioProgram(load_scenario(REFERENCE_SCENARIO))
    program.parameters = program.parameters.copy()
    for name, value in overrides.items():
        program.parameters[Par[name]] = value
    return program


def reference_day(secretion_max: float, insulin_reference: float, overrides: dict | None = None):
    """(mean glucose mg/dl, mean insulin pmol/l) of the healthy reference day at mass = function = 1."""
    from glucosim.physiology.indices import St
    from glucosim.simulation.initial_state import _guess, warm_up

    program = _reference_program(
        {**(overrides or {}), "secretion_max": secretion_max, "insulin_mean_reference": insulin_reference}
    )
    y = _guess(program.parameters)
    y[St.beta_function_rel] = 1.0
    y[St.beta_mass_rel] = 1.0
    y, _, _ = warm_up(program, y)
    _, glucose, insulin = warm_up(program, y)
    return float(glucose), float(insulin)


def solve_reference_day(overrides: dict | None = None) -> dict:
    """secretion_max and insulin_mean_reference of the reference day, with ``overrides`` applied.

    A fixed point in insulin_mean_reference: at each iterate, brentq finds the secretion_max whose day has the set
    point's mean glucose (to SECRETION_XTOL), and the day's mean insulin is the next iterate, until input and output
    agree within FIXED_POINT_TOLERANCE_PMOL_L. The iterates after the second follow the secant of output - input
    (the plain iteration contracts by only ~0.27 per step, alternating); the brentq searches after the first start
    from a narrow bracket around the root predicted from the earlier ones. Both only save reference days (about 25
    instead of 36-90 per solve, each two warm-ups): the stopping criteria, and so the accuracy, are the same.

    Returns:
        dict with secretion_max, insulin_mean_reference and the day's mean_glucose_mg_dl.

    Raises:
        CalibrationError: no secretion_max in the table's range reaches the set point.
    """
    from glucosim.physiology.indices import Par

    overrides = {k: v for k, v in (overrides or {}).items() if k not in REFERENCE_PARAMETERS}
    program = _reference_program(overrides)
    setpoint = float(program.parameters[Par.glucose_setpoint])
    insulin = float(program.parameters[Par.insulin_mean_reference])
    low, high = secretion_max_bracket()
    days: dict[tuple[float, float], tuple[float, float]] = {}

    def day(secretion_max: float, insulin_reference: float) -> tuple[float, float]:
        # each reference day is simulated once: brentq evaluates again the bracket ends checked below, and the root
        # it returns is one of its iterates
        key = (secretion_max, insulin_reference)
        if key not in days:
            days[key] = reference_day(secretion_max, insulin_reference, overrides)
        return days[key]

    def secretion_root(insulin_reference: float, guess: float | None, half_width: float) -> float:
        def excess(secretion_max: float) -> float:
            return day(secretion_max, insulin_reference)[0] - setpoint

        a, b = low, high
        if guess is not None:
            a, b = max(low, guess - half_width), min(high, guess + half_width)
            if excess(a) * excess(b) > 0:  # the root is outside the guess: on the side whose far end differs
                a, b = (b, high) if excess(b) * excess(high) <= 0 else (low, a)
        if excess(a) * excess(b) > 0:
            raise CalibrationError(
                f"reference day with {overrides}: no secretion_max in [{low}, {high}] pmol/kg/min gives a "
                f"mean glucose of {setpoint} mg/dl (glucose_setpoint)"
            )
        return brentq(excess, a, b, xtol=SECRETION_XTOL)

    iterates: list[tuple[float, float, float]] = []  # (insulin in, secretion_max, insulin out)
    for _ in range(FIXED_POINT_ITERATIONS):
        guess, half_width = None, 0.0
        if len(iterates) == 1:  # how the root moves with insulin is not known yet
            guess = iterates[-1][1]
            half_width = SECRETION_GUESS_HALF_WIDTH * guess
        elif iterates:  # extrapolated along the last two roots; the bracket twice the predicted move wide
            (i0, s0, _), (i1, s1, _) = iterates[-2:]
            guess = s1 + (s1 - s0) / (i1 - i0) * (insulin - i1) if i1 != i0 else s1
            half_width = max(2.0 * abs(guess - s1), SECRETION_GUESS_MIN_HALF_WIDTH * guess)
        secretion_max = secretion_root(insulin, guess, half_width)
        glucose, new_insulin = day(secretion_max, insulin)
        iterates.append((insulin, secretion_max, new_insulin))
        if abs(new_insulin - insulin) < FIXED_POINT_TOLERANCE_PMOL_L:
            insulin = new_insulin
            break
        insulin = _next_insulin(iterates)
    solved = {"secretion_max": secretion_max, "insulin_mean_reference": insulin}
    return {
        **solved,
        "nefa_mean_reference": reference_mean_nefa({**overrides, **solved}),
        "mean_glucose_mg_dl": glucose,
    }


def _next_insulin(iterates: list[tuple[float, float, float]]) -> float:
    """The next insulin_mean_reference iterate: the secant root of output - input through the last two iterates;
    the last output (the plain fixed-point step) after the first iterate, or when the secant step does not go the
    plain step's way by at most 4 times as far (a contraction's secant step does: by less when the map's slope is
    negative, as here, and by 1 / (1 - slope) when it is positive)."""
    inp, _, out = iterates[-1]
    plain = out - inp
    if len(iterates) < 2:
        return out
    previous_in, _, previous_out = iterates[-2]
    if inp == previous_in:
        return out
    slope = (plain - (previous_out - previous_in)) / (inp - previous_in)
    if slope == 0.0 or not math.isfinite(slope):
        return out
    step = -plain / slope
    return inp + step if 0.0 < step / plain <= 4.0 else out


def reference_mean_nefa(overrides: dict | None = None) -> float:
    """24-h mean plasma NEFA (mmol/l) of the healthy reference day (day 0 of the reference scenario).

    The liver-fat NEFA source is relative to it, so the healthy reference holds its liver fat.
    """
    import numpy as np

    import glucosim

    parameters = {k: v for k, v in (overrides or {}).items() if k != "nefa_mean_reference"}
    day = glucosim.simulate(REFERENCE_SCENARIO, progress=False, until_day=1, **parameters).trajectories[0]
    minutes = day["time_min"].to_numpy()
    return float(np.trapezoid(day["nefa_mmol_l"].to_numpy(), minutes) / (minutes[-1] - minutes[0]))


# ---------------------------------------------------------------- derived quantities
class Subject:
    """A preset living the reference day (``subject_with``), with its start (the midnight state of day 0, solved by
    ``initial_state``) and its fasting morning computed once: an evaluation measures up to six quantities on the
    healthy subject, and each solve of the adapted start is a search over warm-ups. The protocols are given the
    state, as ``run_protocol(..., state=)`` allows: the same numbers as letting each one solve it again."""

    def __init__(self, preset: str, parameters: dict):
        self.preset = preset
        self.parameters = parameters
        self.loaded = subject_with(preset, parameters)
        self.derived: dict[str, Any] = {}
        """Intermediate results two derived measures share (e.g. the control arm of a sensitivity step)."""
        self._state: np.ndarray | None = None
        self._morning = None

    @property
    def state(self) -> np.ndarray:
        """The subject's state at midnight of day 0 (``clinic.runner.subject_state(loaded, 0)``)."""
        if self._state is None:
            from glucosim.clinic.runner import subject_state

            self._state = subject_state(self.loaded, 0)
        return self._state

    def morning(self):
        """``clinic.runner.morning_test_state`` of day 0: (state, base drivers, start minute)."""
        if self._morning is None:
            from glucosim.clinic.runner import morning_test_state

            self._morning = morning_test_state(self.loaded, 0, self.state)
        return self._morning

    def run(self, protocol):
        """``run_protocol(protocol, subject)`` on day 0."""
        from glucosim.clinic.runner import run_protocol

        return run_protocol(protocol, self.loaded, 0, self.state)


class Subjects(dict):
    """The ``Subject`` of each preset an evaluation measures, made on first use: preset -> Subject."""

    def __init__(self, parameters: dict):
        super().__init__()
        self.parameters = parameters

    def __missing__(self, preset: str) -> Subject:
        self[preset] = Subject(preset, self.parameters)
        return self[preset]


def _fasting_secretion(subject: Subject, target=None, subjects=None) -> float:
    """Insulin secretion into the portal vein at the fasting sample, pmol/kg/min."""
    from glucosim.physiology.indices import Flux
    from glucosim.simulation.organ import organ_fluxes

    y, base, _ = subject.morning()
    p = subject.loaded.parameters
    return float(organ_fluxes()(y[None, :], base[None, :], p)[0, Flux.secretion_pmol_kg_min])


def _fasting_hepatic_extraction(subject: Subject, target=None, subjects=None) -> float:
    """Fraction of secreted insulin the liver removes in first pass, at the fasting sample."""
    from glucosim.physiology.insulin import hepatic_extraction

    return float(hepatic_extraction(_fasting_secretion(subject), subject.loaded.parameters))


def _infused_insulin_hepatic_share(subject: Subject, target=None, subjects=None) -> float:
    """Share of the removal of infused (peripheral) insulin done by the liver, secretion suppressed.

    Plasma insulin reaches the liver at m2 and the liver degrades the fraction
    HE(0) of it; the rest of the body clears it at m4 (the setting of a
    hepatic-vein study under somatostatin).
    """
    from glucosim.physiology.indices import Par
    from glucosim.physiology.insulin import hepatic_extraction

    p = subject.loaded.parameters
    hepatic = p[Par.insulin_plasma_to_liver_rate] * hepatic_extraction(0.0, p)
    return float(hepatic / (hepatic + p[Par.insulin_peripheral_clearance_rate]))


def _hepatic_extraction_fall_fasting(subject: Subject, target=None, subjects=None) -> float:
    """Fall of hepatic extraction from its value at zero secretion to the fasting sample's (m6 - HE)."""
    from glucosim.physiology.indices import Par

    return float(subject.loaded.parameters[Par.hepatic_extraction_max] - _fasting_hepatic_extraction(subject))


def _disposition_index_ratio_to_healthy(subject: Subject, target, subjects: Subjects) -> float:
    """Disposition index (SI x AIRg) of the subject over the healthy preset's, both in ``target.protocol``.

    Both start adapted (beta-cell function such that the reference day's mean glucose is the set point):
    Kahn's cross-section of people with normal glucose tolerance.
    """
    ratio = subject.run(target.protocol).indices["disposition_index"]
    return float(ratio / subjects["healthy"].run(target.protocol).indices["disposition_index"])


def _insulin_area_ratio_to_meal_without_protein(subject: Subject, target, subjects=None) -> float:
    """Incremental insulin area of the meal test ``target.protocol`` over the same meal's without its protein.

    Both meals are eaten by the same adapted subject on the same morning, so the ratio is protein's share of the
    insulin answer (the amino-acid and incretin potentiation of secretion, physiology/gut.py).
    """
    from glucosim.clinic.runner import run_protocol
    from glucosim.scenario.protocol import load_protocol

    with_protein = load_protocol(target.protocol)  # a 'meal' with protein: checked when the target file is read
    without = with_protein.without_protein()
    area = "insulin_incremental_area_uU_ml_min"
    alone = run_protocol(without, subject.loaded, 0, subject.state).indices[area]
    if not alone > 0.0:  # a ratio over no insulin answer (or NaN) is no measurement
        raise CalibrationError(
            f"target {target.name}: the meal of {target.protocol} without its protein raises no insulin in "
            f"{target.subject} (incremental area {alone:g} uU/ml*min), so the ratio is undefined"
        )
    return float(run_protocol(with_protein, subject.loaded, 0, subject.state).indices[area] / alone)


def _secretion_weighted_hepatic_extraction(subject: Subject, target, subjects=None) -> float:
    """Hepatic insulin extraction over ``target.protocol`` weighted by secretion: 1 - post-hepatic delivery over
    pre-hepatic secretion, as C-peptide and insulin areas give it (Eaton 1983)."""
    from glucosim.clinic.runner import run_protocol
    from glucosim.physiology.indices import Par
    from glucosim.physiology.insulin import hepatic_extraction

    p = subject.loaded.parameters
    samples = run_protocol(target.protocol, subject.loaded, 0, subject.state).samples
    time = samples["time_min"].to_numpy()
    secretion = samples["secretion_pmol_min"].to_numpy() / p[Par.body_weight]
    extraction = np.array([hepatic_extraction(s, p) for s in secretion])
    return float(np.trapezoid(extraction * secretion, time) / np.trapezoid(secretion, time))


HEALTHY_FASTING_GLUCOSE_KIM_2017_MG_DL = 5.14 * MG_DL_PER_MMOL_L
"""Kim SR et al. 2017 Ann Lab Med 37:9 (Table 1): the healthy adults' (n = 14) mean fasting glucose, 5.14 mmol/l,
at which their overnight urine was collected (the night's glucose read as the fasting value)."""


def _oral_over_isoglycaemic_secretion_ratio(subject: Subject, target, subjects=None) -> float:
    """Total insulin secretion of ``target.protocol``'s glucose drink over that of the same plasma glucose by vein,
    over the protocol's length (clinic.incretin.isoglycaemic_comparison; Mari 2013's OGTT/IIGI ratio)."""
    from glucosim.clinic.incretin import isoglycaemic_comparison
    from glucosim.scenario.protocol import load_protocol

    protocol = load_protocol(target.protocol).protocol
    comparison = isoglycaemic_comparison(
        subject.loaded, protocol.oral_glucose_total_g, protocol.duration_min, day=0, state=subject.state
    )
    return comparison.total_secretion_ratio


def _renal_excretion_at_healthy_fasting_glucose(subject: Subject, target=None, subjects=None) -> float:
    """The kidney alone (physiology/kidney.py) at Kim 2017's healthy fasting glucose, mg/min: the trace of glucose a
    healthy kidney lets through, which the tail of the nephron thresholds below their mean sets."""
    from glucosim.physiology._jit import as_python
    from glucosim.physiology.kidney import renal_excretion_mg_min

    return float(as_python(renal_excretion_mg_min)(HEALTHY_FASTING_GLUCOSE_KIM_2017_MG_DL, subject.loaded.parameters))


TYPE2_FASTING_GLUCOSE_MG_DL = 8.3 * MG_DL_PER_MMOL_L
"""The type 2 diabetic subject of the liver-glycogen target (Krssak 2004) is scenario 03's on the first day its 30-day
mean fasting glucose reaches 8.3 mmol/l: Krssak's patients' fasting glucose is not in the abstract, and 8.3 mmol/l is
the mean of the tracer studies' type 2 diabetic subjects glucosim compares with (Gastaldelli 2000, 2001: 8.3 and
8.1 mmol/l; the case basal_glucose_output_type2)."""
EARLY_TYPE2_HBA1C_PERCENT = 6.4
"""Macauley 2015's well-controlled type 2 diabetic subjects' mean HbA1c: scenario 03's subject on the first day its
HbA1c reaches it stands for them (they took metformin; glucosim's subject is untreated)."""
AFTER_LAST_MEAL_MIN = 240.0
"""Macauley 2015 measured glycogen after the third of three meals taken 4 h apart: 4 h after glucosim's last meal."""


def _last_meal_min(program, day: int) -> float:
    """Minute of ``day``'s last meal (from midnight)."""
    return float(max(minute for minute, _, _ in program.day_plan(day).meals))


def _glycogen_at(result, program, day: int, reading: str) -> float:
    """Liver glycogen (mg/kg) of ``day`` at ``reading``: "fasting" (the day's fasting sample, before breakfast),
    "before_last_meal" (the last 5-min sample before the day's last meal) or "after_last_meal" (AFTER_LAST_MEAL_MIN
    after it)."""
    trace = result.trace(day)
    minutes = trace["clock_h"].to_numpy() * 60.0
    if reading == "fasting":
        at = program.day_plan(day).fasting_sample_min
        row = int(np.argmin(np.abs(minutes - at)))
    elif reading == "before_last_meal":
        row = int(np.nonzero(minutes < _last_meal_min(program, day))[0][-1])
    else:
        row = int(np.argmin(np.abs(minutes - (_last_meal_min(program, day) + AFTER_LAST_MEAL_MIN))))
    return float(trace["liver_glycogen_mg_kg"].iloc[row])


SYNTHESIS_WINDOW_MIN = 300.0
"""The net synthesis after a meal is read up to the store's peak within 5 h (Taylor 1996's healthy store peaked
~5 h after a mixed meal)."""


def _net_synthesis_after_last_meal(trace, meal_min: float) -> float:
    """Net liver glycogen synthesis after the meal at ``meal_min`` (mg/kg/min): the rise from the last sample before
    it to the store's peak within SYNTHESIS_WINDOW_MIN, over the time between them (13C MRS's net rate)."""
    minutes = trace["clock_h"].to_numpy() * 60.0
    store = trace["liver_glycogen_mg_kg"].to_numpy()
    before = int(np.nonzero(minutes < meal_min)[0][-1])
    window = np.nonzero((minutes >= meal_min) & (minutes <= meal_min + SYNTHESIS_WINDOW_MIN))[0]
    peak = int(window[np.argmax(store[window])])
    return float((store[peak] - store[before]) / (minutes[peak] - minutes[before]))


def type2_liver_glycogen_control_day(parameters: dict):
    """The healthy adult against whom ``type2_liver_glycogen`` reads scenario 03's subject: the healthy preset on the
    scenario's routine without its drift, one day (a ``glucosim.SimulationResult``; ``parameters``: overrides)."""
    import glucosim
    from glucosim._toml import load_toml

    data = load_toml(TYPE2_SCENARIO)
    data.pop("clinic", None)
    healthy = {
        **data,
        "duration_days": 1,
        "subject": {"preset": "healthy"},
        "routine": {**data["routine"], "drift": {}},
    }
    healthy.pop("duration_years", None)
    return glucosim.simulate(healthy, progress=False, **parameters)


def type2_liver_glycogen(parameters: dict) -> dict[str, float]:
    """Liver glycogen of scenario 03's subject over a healthy adult's on the same meals: before the last meal (and
    the net synthesis after that meal) on the first day its 30-day mean fasting glucose reaches
    TYPE2_FASTING_GLUCOSE_MG_DL, and at the fasting sample and AFTER_LAST_MEAL_MIN after the last meal on the first
    day its HbA1c reaches EARLY_TYPE2_HBA1C_PERCENT. The healthy adult is the healthy preset on the scenario's routine
    without its drift, on day 0. ``parameters``: overrides of the table (the fit's free values and the reference
    day's)."""
    import glucosim
    from glucosim._toml import load_toml
    from glucosim.calibration.course import PRESENTATION_SEARCH_YEARS
    from glucosim.scenario.compile import ScenarioProgram

    data = load_toml(TYPE2_SCENARIO)
    data.pop("clinic", None)
    untreated = glucosim.simulate(data, progress=False, resolution="envelope", **parameters)
    reached, early = _type2_reading_days(untreated.daily)
    if reached.size == 0 or early.size == 0:
        # as the course does (course.course_runs): the scenario's length is a teaching choice, so a subject whose
        # course the free parameters slow is run longer before the point is refused
        longer_days = len(untreated.daily) + round(PRESENTATION_SEARCH_YEARS * DAYS_PER_YEAR)
        longer = glucosim.load_scenario(untreated.loaded, duration_days=longer_days)
        untreated = glucosim.simulate(longer, progress=False, resolution="envelope")
        reached, early = _type2_reading_days(untreated.daily)
    if reached.size == 0 or early.size == 0:
        raise CalibrationError(
            f"{TYPE2_SCENARIO.name}: the subject's fasting glucose never reaches {TYPE2_FASTING_GLUCOSE_MG_DL:.0f} "
            f"mg/dl or its HbA1c {EARLY_TYPE2_HBA1C_PERCENT} % within the scenario lengthened by "
            f"{PRESENTATION_SEARCH_YEARS} years, so the liver-glycogen targets have no type 2 diabetic subject"
        )
    diabetic_program = ScenarioProgram(untreated.loaded)
    healthy = type2_liver_glycogen_control_day(parameters)
    healthy_program = ScenarioProgram(healthy.loaded)

    def ratio(day: int, reading: str) -> float:
        return _glycogen_at(untreated, diabetic_program, day, reading) / _glycogen_at(
            healthy, healthy_program, 0, reading
        )

    def synthesis(result, program, day: int) -> float:
        return _net_synthesis_after_last_meal(result.trace(day), _last_meal_min(program, day))

    return {
        "after_dinner_synthesis": synthesis(untreated, diabetic_program, int(reached[0]))
        / synthesis(healthy, healthy_program, 0),
        "before_dinner": ratio(int(reached[0]), "before_last_meal"),
        "fasting_early": ratio(int(early[0]), "fasting"),
        "after_meals_early": ratio(int(early[0]), "after_last_meal"),
    }


def _type2_reading_days(daily) -> tuple[np.ndarray, np.ndarray]:
    """Days on which the 30-day mean fasting glucose has reached TYPE2_FASTING_GLUCOSE_MG_DL, and days on which HbA1c
    has reached EARLY_TYPE2_HBA1C_PERCENT (``type2_liver_glycogen`` reads the first of each)."""
    from glucosim.calibration.course import SMOOTH_DAYS

    fasting = daily["fasting_glucose_mg_dl"].rolling(SMOOTH_DAYS, min_periods=1).mean().to_numpy()
    hba1c = daily["hba1c_percent"].to_numpy()
    return np.nonzero(fasting >= TYPE2_FASTING_GLUCOSE_MG_DL)[0], np.nonzero(hba1c >= EARLY_TYPE2_HBA1C_PERCENT)[0]


def _gluconeogenic_share_type2(subject: Subject, target=None, subjects=None) -> float:
    """Share of the liver's glucose output from gluconeogenesis (1 - glycogenolysis / output) in scenario 21's subject
    on the day of its diagnosis (calibration.course.diagnosis_day), at the last 5-min sample before breakfast."""
    import glucosim
    from glucosim._toml import load_toml
    from glucosim.calibration.course import diagnosis_day
    from glucosim.scenario.compile import ScenarioProgram

    data = load_toml(FATTY_LIVER_SCENARIO)
    data.pop("clinic", None)
    result = glucosim.simulate(data, progress=False, resolution="envelope", **subject.parameters)
    day = diagnosis_day(result.daily)
    if day is None:
        raise CalibrationError(f"{FATTY_LIVER_SCENARIO.name}: the subject is never diagnosed, so it has no share")
    breakfast_min = min(minute for minute, _, _ in ScenarioProgram(result.loaded).day_plan(day).meals)
    trace = result.trace(day)
    before = trace[trace["clock_h"].to_numpy() * 60.0 < breakfast_min].iloc[-1]
    return float(1.0 - before["glycogenolysis_mg_kg_min"] / before["liver_output_mg_kg_min"])


def _type2_liver_glycogen_ratio(reading: str):
    """The derived measure of one reading of ``type2_liver_glycogen`` (computed once per evaluation)."""

    def measure(subject: Subject, target=None, subjects=None) -> float:
        if "type2_liver_glycogen" not in subject.derived:
            subject.derived["type2_liver_glycogen"] = type2_liver_glycogen(subject.parameters)
        return subject.derived["type2_liver_glycogen"][reading]

    return measure


SENSITIVITY_STEP_DAYS = 3
"""Matsumoto 1996: dexamethasone for 3 days, the FSIVGTT on the fourth morning (arms: SENSITIVITY_STEP_ARMS)."""


def early_insulin_area_0_20_uU_ml_min(samples) -> float:
    """Incremental plasma insulin area over fasting from 0 to 20 min of an IVGTT, uU/ml*min (the samples
    interpolated linearly: the protocol samples at 19 and 22 min, not at 20)."""
    minutes = samples["time_min"].to_numpy()
    insulin = samples["insulin_uU_ml"].to_numpy()
    grid = np.linspace(0.0, 20.0, 201)
    return float(np.trapezoid(np.interp(grid, minutes, insulin) - insulin[0], grid))


def ivgtt_after_sensitivity_step(subject: Subject, factor: float, protocol: str) -> dict:
    """The IVGTT ``protocol`` of ``subject`` after SENSITIVITY_STEP_DAYS days of the reference day at ``factor``
    times its whole-body insulin sensitivity, changed in one step at the midnight of its adapted start (1: the same
    days without the change): the protocol's indices and ``early_insulin_area_0_20_uU_ml_min``."""
    from glucosim.clinic.runner import run_protocol
    from glucosim.physiology.indices import Par
    from glucosim.simulation.run import continue_from_state

    days = SENSITIVITY_STEP_DAYS
    sensitivity = float(subject.loaded.parameters[Par.insulin_sensitivity_whole_body]) * factor
    changed = subject_with(
        subject.preset, {**subject.parameters, "insulin_sensitivity_whole_body": sensitivity}, duration_days=days + 1
    )
    state = continue_from_state(changed, subject.state, days)
    test = run_protocol(protocol, changed, day=days, state=state)
    return {**test.indices, "early_insulin_area_0_20_uU_ml_min": early_insulin_area_0_20_uU_ml_min(test.samples)}


def _early_insulin_change_after_sensitivity_step(arm: str):
    """The derived measure of one arm: percent change of the IVGTT's 0-20 min insulin area against the control, in
    the target's protocol."""

    def measure(subject: Subject, target, subjects=None) -> float:
        control_key = f"sensitivity_step_control|{target.protocol}"
        if control_key not in subject.derived:
            subject.derived[control_key] = ivgtt_after_sensitivity_step(subject, 1.0, target.protocol)
        area = "early_insulin_area_0_20_uU_ml_min"
        control = subject.derived[control_key][area]
        treated = ivgtt_after_sensitivity_step(subject, SENSITIVITY_STEP_ARMS[arm], target.protocol)[area]
        return 100.0 * (treated / control - 1.0)

    return measure


DERIVED = {
    "fasting_secretion_pmol_kg_min": _fasting_secretion,
    "fasting_hepatic_extraction": _fasting_hepatic_extraction,
    "infused_insulin_hepatic_share": _infused_insulin_hepatic_share,
    "hepatic_extraction_fall_fasting": _hepatic_extraction_fall_fasting,
    "disposition_index_ratio_to_healthy": _disposition_index_ratio_to_healthy,
    PROTEIN_RATIO_MEASURE: _insulin_area_ratio_to_meal_without_protein,
    INCRETIN_RATIO_MEASURE: _oral_over_isoglycaemic_secretion_ratio,
    "secretion_weighted_hepatic_extraction": _secretion_weighted_hepatic_extraction,
    "renal_excretion_at_healthy_fasting_glucose_mg_min": _renal_excretion_at_healthy_fasting_glucose,
    GLUCONEOGENIC_SHARE_MEASURE: _gluconeogenic_share_type2,
    **{
        f"{TYPE2_GLYCOGEN_MEASURE}_{reading}": _type2_liver_glycogen_ratio(reading)
        for reading in TYPE2_GLYCOGEN_READINGS
    },
    **{
        f"{SENSITIVITY_STEP_MEASURE}_{arm}": _early_insulin_change_after_sensitivity_step(arm)
        for arm in SENSITIVITY_STEP_ARMS
    },
}
"""Measurements that are not an index of a clinic protocol: name -> function(the target's ``Subject``, target,
the evaluation's ``Subjects``) -> value."""


def subject_with(preset: str, parameters: dict, duration_days: int = 1):
    """The preset living the reference day (as ``glucosim clinic --subject``), with parameter overrides, for
    ``duration_days`` days."""
    from glucosim._toml import load_toml
    from glucosim.clinic.runner import REFERENCE_ROUTINE_PATH
    from glucosim.scenario.load import parse_scenario

    data = {
        "name": f"{preset} (reference day, calibration)",
        "duration_days": duration_days,
        "subject": {"preset": preset, "parameters": dict(parameters)},
        "routine": load_toml(REFERENCE_ROUTINE_PATH),
    }
    return parse_scenario(data, source=f"calibration subject {preset}")


def measure_runs(
    targets: list[Target], parameters: dict, undefined: dict[str, str] | None = None
) -> dict[str, dict[str, float]]:
    """Run each protocol the targets need once: run key -> {measure: value}.

    ``parameters`` must already hold the reference-day values. Each subject's start is solved once (``Subject``).
    A held-out target (kind "validation") whose derived measure has nothing to read at these parameters (it raises
    CalibrationError: e.g. the subject it reads is never diagnosed) is NaN, its reason put in ``undefined`` (target
    name -> message) when given: a fit needs every number, but a held-out one is reported as it is, so that a model
    change does not lose a finished fit to its last, held-out, measurement. A fit target's error still raises.
    """
    runs: dict[str, dict[str, float]] = {}
    subjects = Subjects(parameters)
    for target in targets:
        if target.run_key in runs and target.measure in runs[target.run_key]:
            continue
        subject = subjects[target.subject]
        values = runs.setdefault(target.run_key, {})
        if target.measure in DERIVED:
            try:
                values[target.measure] = DERIVED[target.measure](subject, target, subjects)
            except CalibrationError as error:
                if target.kind == "fit":
                    raise
                values[target.measure] = float("nan")
                if undefined is not None:
                    undefined[target.name] = str(error)
            continue
        indices = subject.run(target.protocol).indices
        if target.measure not in indices:
            raise CalibrationError(
                f"target {target.name}: protocol {target.protocol} has no index '{target.measure}' "
                f"(indices: {', '.join(indices)}; derived: {', '.join(DERIVED)})"
            )
        numbers = (int, float, np.integer, np.floating)
        values.update({name: float(value) for name, value in indices.items() if isinstance(value, numbers)})
    return runs


def evaluate(targets: list[Target], free: dict[str, float]) -> dict:
    """The reference day and every target's measurement at the free parameter values ``free``.

    Returns:
        {"reference_day": solve_reference_day(...), "runs": measure_runs(...), "undefined": {target name: why}}
        (JSON-ready; "undefined" lists the held-out targets measure_runs could not read).
    """
    reference = solve_reference_day(free)
    parameters = {**free, **{name: reference[name] for name in REFERENCE_PARAMETERS}}
    undefined: dict[str, str] = {}
    runs = measure_runs(targets, parameters, undefined)
    return {"reference_day": reference, "runs": runs, "undefined": undefined}


def target_value(evaluation: dict, target: Target) -> float:
    """The value of ``target`` in an ``evaluate`` result."""
    return float(evaluation["runs"][target.run_key][target.measure])


# ---------------------------------------------------------------- the duodenal fat brake (gastric emptying alone)
FAT_BRAKE_MEAL: dict[str, Any] = {"carbs_g": 3.0, "fat_g": 48.0, "absorption": "fast"}
"""Houghton, Mangnall & Read 1990 Gut 31:1226 (abstract read): 300 ml beef consommé (12 kcal, taken as 3 g of
carbohydrate, a liquid) with 60 g margarine (~48 g fat) in seven healthy men, gamma camera."""
FAT_BRAKE_TARGET_HALF_EMPTYING_MIN = 120.0
"""Their median lag (32 min) plus half-emptying time after the lag (88 min)."""


def _gut_meal(carbs_g, fat_g, protein_g, absorption, parameters):
    """One meal in an empty gut: (parameter vector, carbohydrate dose mg/kg, starting gut states)."""
    from glucosim.parameters import load_parameter_table
    from glucosim.physiology.gut import add_meal
    from glucosim.physiology.indices import N_STATES, Par
    from glucosim.physiology.units import grams_to_mg_per_kg
    from glucosim.scenario.compile import absorption_speed

    p = load_parameter_table().vector() if parameters is None else parameters
    dose = grams_to_mg_per_kg(carbs_g, p[Par.body_weight])
    y = np.zeros(N_STATES)
    add_meal(y, dose, absorption_speed(absorption, p), fat_g / carbs_g, protein_g / carbs_g)
    return p, dose, y[_gut_states()]


def _gut_states():
    """The gut's states: its carbohydrate first (stomach solid, stomach liquid, intestine), then what travels
    with it."""
    from glucosim.physiology.indices import St

    return [
        St.stomach_solid_mg_kg,
        St.stomach_liquid_mg_kg,
        St.gut_mg_kg,
        St.stomach_fat_mg_kg,
        St.stomach_protein_mg_kg,
        St.stomach_speed_carb_mg_kg,
        St.gut_fat_mg_kg,
        St.gut_protein_mg_kg,
        St.gut_speed_carb_mg_kg,
        St.stomach_emptied_mg_kg,
    ]


def _gut_rates(p):
    """d/dt of the gut states (``_gut_states``) for solve_ivp."""
    from glucosim.physiology import gut
    from glucosim.physiology.indices import N_STATES

    gut_states = _gut_states()

    def rates(_t, z):
        y = np.zeros(N_STATES)
        y[gut_states] = z
        dydt = np.zeros(N_STATES)
        gut.gut_derivatives(y, p, dydt)
        return dydt[gut_states]

    return rates


def gastric_half_emptying_min(
    carbs_g: float,
    fat_g: float = 0.0,
    protein_g: float = 0.0,
    absorption="medium",
    parameters=None,
    emptied_fraction: float = 0.5,
) -> float:
    """Minutes until half (``emptied_fraction``) of a meal's carbohydrate has left the stomach (the gut alone).

    Gastric emptying depends only on the gut's states and the meal's dose, so the stomach of a
    scintigraphy study can be run on its own, without the rest of the body.
    """
    from scipy.integrate import solve_ivp

    p, dose, z0 = _gut_meal(carbs_g, fat_g, protein_g, absorption, parameters)
    rates = _gut_rates(p)

    def half_emptied(_t, z):
        return z[0] + z[1] - (1.0 - emptied_fraction) * dose

    half_emptied.terminal = True  # type: ignore[attr-defined]  # solve_ivp stops at the event
    solution = solve_ivp(rates, (0.0, 1440.0), z0, events=half_emptied, rtol=1e-8, atol=1e-9)
    return float(solution.t_events[0][0])


def absorbed_carbohydrate_fraction(
    carbs_g: float, fat_g: float, protein_g: float, minutes: float, absorption="medium", parameters=None
) -> float:
    """Fraction of a meal's carbohydrate absorbed from the gut after ``minutes`` (the gut equations alone)."""
    from scipy.integrate import solve_ivp

    p, dose, z0 = _gut_meal(carbs_g, fat_g, protein_g, absorption, parameters)
    solution = solve_ivp(_gut_rates(p), (0.0, minutes), z0, rtol=1e-9, atol=1e-9)
    return float(1.0 - solution.y[:3, -1].sum() / dose)  # the carbohydrate states


def stomach_fraction_left(
    carbs_g: float, fat_g: float, protein_g: float, hours: float, absorption="medium", parameters=None
) -> float:
    """Fraction of a meal's carbohydrate still in the stomach ``hours`` after it (the gut equations alone).

    Measures the duodenal brake's tail: scintigraphy of mixed meals finds >90 % emptied by 4-6 h.
    """
    from scipy.integrate import solve_ivp

    p, dose, z0 = _gut_meal(carbs_g, fat_g, protein_g, absorption, parameters)
    minutes = hours * 60.0
    solution = solve_ivp(_gut_rates(p), (0.0, minutes), z0, rtol=1e-9, atol=1e-12)
    return float((solution.y[0, -1] + solution.y[1, -1]) / dose)


def calibrate_fat_brake() -> float:
    """duodenal_fat_brake_half_kcal at which Houghton 1990's fat-laden liquid half-empties in 120 min."""
    from glucosim.parameters import load_parameter_table
    from glucosim.physiology.indices import Par

    p = load_parameter_table().vector()

    def excess(half_kcal: float) -> float:
        p[Par.duodenal_fat_brake_half_kcal] = half_kcal
        return gastric_half_emptying_min(**FAT_BRAKE_MEAL, parameters=p) - FAT_BRAKE_TARGET_HALF_EMPTYING_MIN

    return brentq(excess, 1.0, 200.0, xtol=1e-3)


# ---------------------------------------------------------------- the second phase's slow part (the beta cells alone)
MICHALISZYN_2014_CLAMP_MIN = (20.0, 30.0, 45.0, 60.0, 75.0, 90.0, 105.0, 118.0)
"""Sampling times of the insulin secretion rate (ISR) below, min from the start of the clamp."""
MICHALISZYN_2014_CLAMP_ISR_PMOL_MIN = (1141.0, 1196.0, 1337.0, 1498.0, 1593.0, 1669.0, 1720.0, 1762.0)
"""Mean ISR (pmol/min, deconvolved from C-peptide) of the normal-glucose-tolerance group of Michaliszyn SF, Mari A et
al. 2014 Diabetes 63:3846 (obese adolescents) during a 2-h hyperglycaemic clamp, as stored by Mari's group in their
public beta-cell model code (repository CNR-IN-MatMod/BetaCell2017, file Mychaliszin_2014_NGT.mat, read by a
literature helper on 2026-12-07; the paper's figure was not seen). Basal ISR 297 pmol/min. From 20 min on (the
first phase is over), secretion still rises at 118 min (+3.3 pmol/min per min) while glucose drifts slightly down."""
MICHALISZYN_2014_BASAL_GLUCOSE_MG_DL = 5.23 * MG_DL_PER_MMOL_L
MICHALISZYN_2014_CLAMP_GLUCOSE_MG_DL = 12.5 * MG_DL_PER_MMOL_L
"""The same file's glucose: 5.23 mmol/l at baseline; 12.9 at 20-30 min, 12.3 at 60-90 and 12.46 at 120 (12.5 taken
as constant: the second phase's dose-response is nearly flat in relative terms across that drift)."""
SECOND_PHASE_SLOW_TIME_CONSTANT_MIN = 120.0
"""The slow part's time constant (1 / secretion_slow_delay_rate). A 2-h clamp cannot identify it: with the fast part
held at DM2007's 20 min, least squares on Michaliszyn's shape runs to ever longer constants (a rise that is still
nearly linear at 2 h; relative RMS 0.034, 0.031, 0.029, 0.027 and 0.022 at 60, 90, 120, 180 and 360 min, the share
0.49, 0.45, 0.46, 0.51 and 0.67). The constant is set to the clamp's own length, the longest the data can show
without extrapolating (a choice, stated in models/parameters.toml#secretion_slow_delay_rate)."""


def second_phase_clamp_shape(slow_share: float, slow_rate_per_min: float, parameters=None) -> np.ndarray:
    """Second-phase secretion at MICHALISZYN_2014_CLAMP_MIN over its value at the last sample, for a step of glucose
    from Michaliszyn's basal to clamp glucose in the healthy subject (capacity 1), both parts starting from their
    basal steady state: the model's own second phase (clinic.incretin.replay_second_phase, which follows
    beta_cells.beta_fast_derivatives) with ``slow_share`` and ``slow_rate_per_min`` in place of the table's."""
    from glucosim.clinic.incretin import replay_second_phase
    from glucosim.parameters import load_parameter_table
    from glucosim.physiology._jit import as_python
    from glucosim.physiology.beta_cells import second_phase_target
    from glucosim.physiology.indices import Par

    p = (load_parameter_table().vector() if parameters is None else parameters).copy()
    p[Par.secretion_slow_share] = slow_share
    p[Par.secretion_slow_delay_rate] = slow_rate_per_min
    basal = as_python(second_phase_target)(MICHALISZYN_2014_BASAL_GLUCOSE_MG_DL, 1.0, p)
    time_min = np.concatenate(([0.0], MICHALISZYN_2014_CLAMP_MIN))
    glucose = np.full(time_min.shape, MICHALISZYN_2014_CLAMP_GLUCOSE_MG_DL)
    secretion = replay_second_phase(
        time_min, glucose, np.ones_like(time_min), (1.0 - slow_share) * basal, slow_share * basal, p
    )[1:]
    return secretion / secretion[-1]


def fit_second_phase_slow_share(time_constant_min: float = SECOND_PHASE_SLOW_TIME_CONSTANT_MIN, parameters=None):
    """secretion_slow_share whose clamp shape (``second_phase_clamp_shape``) is nearest Michaliszyn 2014's ISR from
    20 min on, each relative to its 118-min value (least squares), at a slow time constant ``time_constant_min``:
    (share, relative RMS residual)."""
    from scipy.optimize import minimize_scalar

    observed = np.asarray(MICHALISZYN_2014_CLAMP_ISR_PMOL_MIN)
    observed = observed / observed[-1]

    def sum_of_squares(share: float) -> float:
        shape = second_phase_clamp_shape(share, 1.0 / time_constant_min, parameters)
        return float(np.sum((shape - observed) ** 2))

    best = minimize_scalar(sum_of_squares, bounds=(0.0, 1.0), method="bounded", options={"xatol": 1e-6})
    return float(best.x), math.sqrt(best.fun / len(observed))
