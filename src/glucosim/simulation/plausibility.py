"""The plausibility contract: a run whose glucose or markers leave a physiological band is never a plain success.

The model keeps states that cannot be negative non-negative by construction,
and inputs that can only produce nonsense are refused at load; this check is
the last line: it reads what a run produced (the daily table, clinic samples)
and lists every marker outside its band. ``summary.json`` carries the verdict,
the terminal shows it, ``glucosim run --strict`` fails on it, and a sweep
records such a run with status ``implausible`` instead of ``ok``.

The bands are wide on purpose: they catch impossible states (a glucose of
27,000 mg/dl, an HbA1c of 1,000 %), not unusual ones.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from glucosim.physiology.adipose import _MIN_FAT_MASS_FRACTION
from glucosim.physiology.indices import Par
from glucosim.scenario.schema import BMI_BAND_KG_M2, body_mass_index  # noqa: F401 (defined with the load limits)

GLUCOSE_BAND_MG_DL = (20.0, 1000.0)
"""Plasma glucose a living person can have: below ~20 mg/dl is coma and death within hours, and values above
1,000 mg/dl are case reports of hyperosmolar states, not a course the model describes."""

DAILY_BANDS: dict[str, tuple[float, float]] = {
    "min_glucose_mg_dl": GLUCOSE_BAND_MG_DL,
    "max_glucose_mg_dl": GLUCOSE_BAND_MG_DL,
    "fasting_glucose_mg_dl": GLUCOSE_BAND_MG_DL,
    "postmeal_2h_glucose_mg_dl": GLUCOSE_BAND_MG_DL,
    "mean_glucose_mg_dl": GLUCOSE_BAND_MG_DL,
    # clinical HbA1c assays report about 4-18 %; the band is wider so only nonsense is caught
    "hba1c_percent": (3.0, 20.0),
    # fasting insulin of an insulinoma reaches a few hundred uU/ml; above 1,000 no person is described
    "fasting_insulin_uU_ml": (0.0, 1000.0),
    "mean_insulin_uU_ml": (0.0, 1000.0),
    # the day's peak, wider than the fasting and mean bands: in a fuzz of accepted inputs whose meals share one
    # composition, peaks above 1,000 came only from extreme subjects (whole-body sensitivity 0.05 of healthy with a
    # fivefold reserve, or meals of 150-400 g of carbohydrate: up to ~2,800; shipped scenario 31, three 300-g meals
    # in the healthy preset, peaks at ~940), unusual rather than impossible; 3,000 (assumed, no source read) catches
    # what a meal cannot do (until 2026-12-04 the gut applied the latest meal's composition to the food still in it:
    # a protein snack after breakfast gave 8,000 in insulin resistance; docs/model.md, Gut)
    "max_insulin_uU_ml": (0.0, 3000.0),
    # fasting NEFA is 0.1-1.5 mmol/l; 5 is beyond starvation and uncontrolled diabetes
    "fasting_nefa_mmol_l": (0.0, 5.0),
    "beta_cell_mass_rel": (0.0, math.inf),
    "beta_cell_function_rel": (0.0, math.inf),
    "insulin_sensitivity_liver_rel": (0.0, math.inf),
    "insulin_sensitivity_muscle_rel": (0.0, math.inf),
    "insulin_sensitivity_adipose_rel": (0.0, math.inf),
}
"""Allowed [low, high] of daily-table columns (NaN means 'not sampled that day' and is allowed, except in
``ALWAYS_SAMPLED``)."""

ALWAYS_SAMPLED = frozenset(
    {
        "min_glucose_mg_dl",
        "max_glucose_mg_dl",
        "mean_glucose_mg_dl",
        "mean_insulin_uU_ml",
        "max_insulin_uU_ml",
        "glucose_mg_dl",
        "insulin_uU_ml",
    }
)
"""Columns every day of a run (every resolution, hour-long runs included) and every clinic sample has: NaN there is
a state gone non-finite, not a missing sample (it passed as plausible)."""

MIN_FAT_MASS_FRACTION = _MIN_FAT_MASS_FRACTION
"""Fat mass below this fraction of its start (5 %) is starvation, which the model does not describe: adipose.py
holds lipolysis at that floor and body.py stops lean loss at half the lean mass; a run that fasts or eats far below
its expenditure for years (2 years without meals lost 50 kg of a 75 kg subject) is not a plain success."""

CLINIC_BANDS: dict[str, tuple[float, float]] = {
    "glucose_mg_dl": GLUCOSE_BAND_MG_DL,
    # a 1,200 mU/m^2/min clamp reaches ~10^4 uU/ml (Kolterman 1981); more is not an experiment
    "insulin_uU_ml": (0.0, 20000.0),
}
"""Allowed [low, high] of clinic sample columns."""

MAX_LISTED = 10
"""Problems listed in summary.json (the first of each marker)."""


@dataclass
class Plausibility:
    """The verdict on one run.

    Attributes:
        problems: one dict per marker outside its band (first occurrence, worst value, count of days/samples).
    """

    problems: list = field(default_factory=list)

    @property
    def plausible(self) -> bool:
        """Whether every marker stayed in its band."""
        return not self.problems

    def to_dict(self) -> dict:
        """The ``plausibility`` entry of summary.json."""
        # strict JSON: a worst value that is NaN or infinite (a state gone non-finite) is written as null
        problems = [
            {**problem, "worst": problem["worst"] if math.isfinite(problem["worst"]) else None}
            for problem in self.problems[:MAX_LISTED]
        ]
        return {"plausible": self.plausible, "glucose_band_mg_dl": list(GLUCOSE_BAND_MG_DL), "problems": problems}

    def message(self) -> str:
        """One line per problem, for the terminal and errors."""
        return "; ".join(_describe(problem) for problem in self.problems[:MAX_LISTED])


def _describe(problem: dict) -> str:
    low, high = problem["allowed"]
    verdict = "is not a number" if math.isnan(problem["worst"]) else "is outside"
    return (
        f"{problem['where']}{problem['marker']} = {problem['worst']:.6g} (first on {problem['first']}, "
        f"{problem['count']} in all) {verdict} [{low:g}, {high:g}]"
    )


def _check_columns(frame, bands: dict, index_column: str, where: str) -> list[dict]:
    import numpy as np

    problems = []
    for column, (low, high) in bands.items():
        if column not in frame.columns:
            continue
        values = frame[column].to_numpy(dtype=float)
        bad = np.isinf(values) | (values < low) | (values > high)  # NaN: not sampled, compares False
        if column in ALWAYS_SAMPLED:
            bad |= np.isnan(values)
        if not bad.any():
            continue
        first = int(np.argmax(bad))
        bad_values = values[bad]
        # a NaN is the worst there is (np.maximum propagates it, so argmax finds the first)
        worst = bad_values[np.argmax(np.maximum(low - bad_values, bad_values - high))]
        problems.append(
            {
                "where": where,
                "marker": column,
                "first": f"{index_column} {frame[index_column].iloc[first]:g}",
                "worst": float(worst),
                "count": int(bad.sum()),
                "allowed": [low, high],
            }
        )
    return problems


def check_daily(daily) -> Plausibility:
    """Check a run's daily table against ``DAILY_BANDS``."""
    return Plausibility(_check_columns(daily, DAILY_BANDS, "day", ""))


def check_clinic_samples(samples, where: str = "") -> Plausibility:
    """Check one clinical test's samples (``time_min`` rows) against ``CLINIC_BANDS``."""
    prefix = f"{where}: " if where else ""
    return Plausibility(_check_columns(samples, CLINIC_BANDS, "time_min", prefix))


def starting_fat_mass_kg(loaded) -> float:
    """The subject's fat mass at the start, kg (body weight x body fat fraction), for ``check_run``."""
    p = loaded.parameters
    return float(p[Par.body_weight] * p[Par.body_fat_fraction])


@dataclass(frozen=True)
class StartingBody:
    """What the body checks need of the subject at the start: weight, height and fat mass."""

    weight_kg: float
    height_cm: float
    fat_mass_kg: float


def starting_body(loaded) -> StartingBody:
    """The subject's weight, height and fat mass at the start, for ``check_run``."""
    p = loaded.parameters
    return StartingBody(float(p[Par.body_weight]), float(p[Par.height_cm]), starting_fat_mass_kg(loaded))


def check_weight(daily, body: StartingBody) -> Plausibility:
    """Check the daily body mass index (start weight plus ``weight_change_kg``, over the height) against
    ``BMI_BAND_KG_M2``; the problem is reported as ``body_mass_index_kg_m2``."""
    import pandas as pd

    weight_kg = body.weight_kg + daily["weight_change_kg"].to_numpy(float)
    frame = pd.DataFrame({"day": daily["day"], "body_mass_index_kg_m2": body_mass_index(weight_kg, body.height_cm)})
    return Plausibility(_check_columns(frame, {"body_mass_index_kg_m2": BMI_BAND_KG_M2}, "day", ""))


def check_body(daily, starting_fat_mass_kg: float) -> Plausibility:
    """Check the daily fat mass (``starting_fat_mass_kg`` plus the daily change) against its starvation floor."""
    import pandas as pd

    frame = pd.DataFrame(
        {"day": daily["day"], "fat_mass_kg": starting_fat_mass_kg + daily["fat_mass_change_kg"].to_numpy(float)}
    )
    band = {"fat_mass_kg": (MIN_FAT_MASS_FRACTION * starting_fat_mass_kg, math.inf)}
    return Plausibility(_check_columns(frame, band, "day", ""))


def check_run(
    daily, clinic=(), starting_fat_mass_kg: float | None = None, body: StartingBody | None = None
) -> Plausibility:
    """Check a whole run: the daily table, the fat mass against its starvation floor (given the starting fat mass,
    or ``body``), the body mass index (given ``body = starting_body(loaded)``) and every clinic visit's samples."""
    verdict = check_daily(daily)
    fat_mass_kg = body.fat_mass_kg if body is not None else starting_fat_mass_kg
    if fat_mass_kg is not None and "fat_mass_change_kg" in daily.columns:
        verdict.problems += check_body(daily, fat_mass_kg).problems
    if body is not None and "weight_change_kg" in daily.columns:
        verdict.problems += check_weight(daily, body).problems
    for visit in clinic:
        where = f"clinic {visit.protocol.protocol.name} (day {visit.day})"
        verdict.problems += check_clinic_samples(visit.samples, where).problems
    return verdict


def verdict_of_summary(summary: dict) -> Plausibility:
    """The verdict stored in a result's summary (an older summary without one counts as unchecked-plausible)."""
    stored = summary.get("plausibility") or {}
    return Plausibility(list(stored.get("problems", [])))
