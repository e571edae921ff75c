"""The course of beta-cell decline: published course statistics and glucosim's values on a shipped scenario.

The slow beta-cell parameters (glucotoxicity, its rates and floors: physiology/beta_cells.py) are set
against the course of untreated type 2 diabetes in one subject: scenario 03 (sensitivity falling 3.5 % a
year, low reserve). ``validation/course/*.toml`` holds the published numbers, each of kind "fit" (the
parameters were chosen, by the grid of ``fit_grid``, to bring these near) or "validation" (held out,
reported only). The diagnosis is the first day fasting glucose reaches 126 mg/dl, as in the cohorts. One fit
target is measured on a run of its own: the same subject held at ~110 mg/dl without a drift of sensitivity
(``stage_two_run``), whose fasting glucose should stay put (Weir & Bonner-Weir 2004's stable stage 2).
Two held-out quantities check the kidney (physiology/kidney.py): the daily urinary glucose of the untreated
subject a year after diagnosis, and the kidney's excretion at a clamped glucose (measured on the scenario's
subject, no simulation needed).

Run ``python -m glucosim.calibration.course`` to print the table (one 20-year run, ~10-50 s), or
``python -m glucosim.calibration.course --grid`` to rerun the grid that chose the shipped values.
"""

from __future__ import annotations

import itertools
import sys
from dataclasses import dataclass
from pathlib import Path

from glucosim._toml import load_toml
from glucosim.calibration.targets import PublishedValue
from glucosim.errors import CalibrationError
from glucosim.physiology.units import DAYS_PER_YEAR

COURSE_DIR = Path(__file__).resolve().parents[1] / "validation" / "data" / "course"
"""validation/course in a clone (validation/data links to the repository's validation folder)."""
SMOOTH_DAYS = 30
"""Fasting glucose is read as a 30-day mean (a clinic value), not one morning."""
MG_PER_G = 1000.0
CLAMP_GLUCOSE_11_MMOL_L_MG_DL = 11.0 * 18.016
"""11 mmol/l in mg/dl (glucose 180.16 g/mol): the clamp level of Wolf et al. 2009's between-subject comparison."""
GRID = {
    "glucotoxicity_threshold": (134.0, 136.0, 138.0),
    "beta_mass_workload_rate": (0.0001, 0.00015, 0.0002),
}
"""The grid that chose the shipped values (the other slow parameters held at their table values: Hill 6, function
rate 0.005/day, mass glucotoxic rate 0.0005/day, function cap sharpness 8: see models/parameters.toml)."""


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


def course_measures(daily, body_weight_kg: float = float("nan")) -> dict[str, float]:
    """Course quantities of one run's daily table (indexed by day); NaN where the run does not reach them.

    ``body_weight_kg`` (the subject's starting weight: the daily table's fluxes are per kg of it) turns the renal
    excretion into grams a day; a table without the renal column gives NaN for it.
    """
    import numpy as np

    fasting = daily["fasting_glucose_mg_dl"].rolling(SMOOTH_DAYS, min_periods=1).mean().to_numpy()
    raw = daily["fasting_glucose_mg_dl"].to_numpy()
    hba1c = daily["hba1c_percent"].to_numpy()
    homa_b = daily["homa_b"].rolling(SMOOTH_DAYS, min_periods=1).mean().to_numpy()
    n = len(raw)
    if "renal_excretion_mg_kg_day" in daily:
        renal_mg_kg_day = daily["renal_excretion_mg_kg_day"].rolling(SMOOTH_DAYS, min_periods=1).mean().to_numpy()
        glucosuria_g_day = renal_mg_kg_day * body_weight_kg / MG_PER_G
    else:
        glucosuria_g_day = np.full(n, np.nan)

    def first(values, threshold):
        hits = np.flatnonzero(values >= threshold)
        return int(hits[0]) if hits.size else None

    def at(values, day):
        day = int(round(day))
        return float(values[day]) if 0 <= day < n else float("nan")

    onset, prediabetes = first(raw, 126.0), first(raw, 100.0)
    if onset is None:
        return {name: float("nan") for name in MEASURES}
    year = DAYS_PER_YEAR
    peak_b = float(np.nanmax(homa_b[: onset + 1]))
    return {
        "years_fasting_100_to_126": (onset - prediabetes) / year,
        "fasting_glucose_3y_before_diagnosis_mg_dl": at(fasting, onset - 3 * year),
        "fasting_glucose_1y_after_diagnosis_mg_dl": at(fasting, onset + year),
        "fasting_glucose_rise_1_to_6y_after_diagnosis_mg_dl": at(fasting, onset + 6 * year) - at(fasting, onset + year),
        "hba1c_1y_after_diagnosis_percent": at(hba1c, onset + year),
        "hba1c_6y_after_diagnosis_percent": at(hba1c, onset + 6 * year),
        "homa_b_at_diagnosis_over_peak": at(homa_b, onset) / peak_b,
        "glucosuria_1y_after_diagnosis_g_day": at(glucosuria_g_day, onset + year),
        "glucosuria_6y_after_diagnosis_g_day": at(glucosuria_g_day, onset + 6 * year),
        "diagnosis_year": onset / year,
    }


STAGE_TWO_SENSITIVITY = 0.26
"""Whole-body sensitivity at which scenario 3's subject with a reserve of 1.4 (``STAGE_TWO_RESERVE``) and the DPP's
baseline weight has a fasting glucose of ~110 mg/dl without a drift: the upper half of Weir & Bonner-Weir's stage 2."""
STAGE_TWO_RESERVE = 1.4
"""beta_function_max of the stage-2 subject: a low reserve, near the fitted DPP cohort's median (1.34 on 2026-12-03,
docs/population.md)."""
STAGE_TWO_WEIGHT_KG = 93.5
"""The DPP's mean baseline weight (Knowler 2002)."""
STAGE_TWO_YEARS = 3


def stage_two_run(scenario: str, **parameters: float):
    """Daily table of ``scenario``'s subject held at ~110 mg/dl fasting without a drift of sensitivity for 3 years.

    Weir & Bonner-Weir 2004 (Diabetes 53 Suppl 3:S16): fasting glucose 5.0-6.5 mmol/l is a stable stage of beta-cell
    adaptation; Whitehall II's non-converters followed flat linear trends (Tabak 2009 Lancet 373:2215).
    """
    import tomllib

    import glucosim

    data = tomllib.loads(glucosim.load_scenario(scenario).text)
    data["duration_years"] = STAGE_TWO_YEARS
    data["routine"] = dict(data["routine"])
    data["routine"]["drift"] = dict(data["routine"].get("drift", {})) | {"whole_body_per_year": 0.0}
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
    import glucosim
    from glucosim.physiology.indices import Par

    values: dict[str, dict[str, float]] = {}
    for scenario in sorted({target.scenario for target in targets}):
        loaded = glucosim.load_scenario(scenario, **parameters)
        daily = glucosim.simulate(loaded, progress=False).daily
        vector = loaded.parameters
        values[scenario] = course_measures(daily, float(vector[Par.body_weight])) | kidney_measures(vector)
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


def fit_grid(targets: list[CourseTarget], log=print) -> tuple[dict[str, float], float]:
    """Evaluate ``GRID`` and return the best point and its objective."""
    best: tuple[dict[str, float], float] = ({}, float("inf"))
    for point in itertools.product(*GRID.values()):
        parameters = dict(zip(GRID, point, strict=True))
        cost = objective(targets, evaluate_course(targets, **parameters))
        log(f"{parameters}: objective {cost:.2f}")
        if cost < best[1]:
            best = (parameters, cost)
    return best


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
    targets = load_course_targets()
    if "--grid" in argv:
        parameters, cost = fit_grid(targets)
        print(f"best: {parameters} (objective {cost:.2f})")
        return 0
    values = evaluate_course(targets)
    print("\n".join(table_lines(targets, values)))
    for scenario, measures in values.items():
        print(f"{scenario}: diagnosis (fasting glucose >= 126 mg/dl) at year {measures['diagnosis_year']:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
