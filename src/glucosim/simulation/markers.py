"""Clinical formulas and ADA thresholds (units in names; inputs may be numpy arrays)."""

import numpy as np

from glucosim.physiology.units import MG_DL_PER_MMOL_L, PMOL_L_PER_UU_ML

HOMA_IR_DENOMINATOR = 22.5
"""Matthews 1985 Diabetologia 28:412: HOMA-IR = insulin (uU/ml) x glucose (mmol/l) / 22.5."""
HOMA_B_FACTOR = 20.0
HOMA_B_GLUCOSE_OFFSET_MMOL_L = 3.5
"""Matthews 1985: HOMA-%B = 20 x insulin (uU/ml) / (glucose (mmol/l) - 3.5)."""
ADAG_SLOPE = 28.7
ADAG_INTERCEPT = -46.7
"""Nathan 2008 Diabetes Care 31:1473 (ADAG): mean glucose (mg/dl) = 28.7 x HbA1c (%) - 46.7."""
HBA1C_WINDOW_DAYS = 90
"""HbA1c reflects roughly the previous three months of glucose."""

# ADA Standards of Care: prediabetes and diabetes thresholds
FASTING_GLUCOSE_PREDIABETES_MG_DL = 100.0
FASTING_GLUCOSE_DIABETES_MG_DL = 126.0
TWO_HOUR_GLUCOSE_PREDIABETES_MG_DL = 140.0
TWO_HOUR_GLUCOSE_DIABETES_MG_DL = 200.0
HBA1C_PREDIABETES_PERCENT = 5.7
HBA1C_DIABETES_PERCENT = 6.5

# International consensus on CGM metrics
RANGE_LOW_MG_DL = 70.0
RANGE_HIGH_MG_DL = 180.0
LEVEL2_LOW_MG_DL = 54.0
LEVEL2_HIGH_MG_DL = 250.0
"""Battelino 2019: target range 70-180 mg/dl; level 1 below 70 / above 180, level 2 below 54 / above 250."""
GMI_INTERCEPT_PERCENT = 3.31
GMI_SLOPE_PERCENT_PER_MG_DL = 0.02392
"""Bergenstal 2018: GMI (%) = 3.31 + 0.02392 x mean glucose (mg/dl)."""

STAGES = ("normal", "prediabetes", "diabetes")


def insulin_uU_ml(insulin_pmol_l):
    """Insulin in uU/ml from pmol/l."""
    return np.asarray(insulin_pmol_l) / PMOL_L_PER_UU_ML


def glucose_mmol_l(glucose_mg_dl):
    """Glucose in mmol/l from mg/dl."""
    return np.asarray(glucose_mg_dl) / MG_DL_PER_MMOL_L


def homa_ir(glucose_mg_dl, insulin_uU_ml_value):
    """HOMA1-IR from fasting glucose (mg/dl) and insulin (uU/ml)."""
    return np.asarray(insulin_uU_ml_value) * glucose_mmol_l(glucose_mg_dl) / HOMA_IR_DENOMINATOR


def homa_b(glucose_mg_dl, insulin_uU_ml_value):
    """HOMA1-%B from fasting glucose (mg/dl) and insulin (uU/ml); NaN where glucose <= 3.5 mmol/l."""
    denominator = glucose_mmol_l(glucose_mg_dl) - HOMA_B_GLUCOSE_OFFSET_MMOL_L
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(denominator > 0.0, HOMA_B_FACTOR * np.asarray(insulin_uU_ml_value) / denominator, np.nan)


def hba1c_from_mean_glucose(mean_glucose_mg_dl):
    """HbA1c (%) from mean glucose (mg/dl), the ADAG relation inverted."""
    return (np.asarray(mean_glucose_mg_dl) - ADAG_INTERCEPT) / ADAG_SLOPE


def trailing_mean(values, window: int, steady_before: bool = False):
    """Mean of the last ``window`` values up to and including each position.

    Near the start the window is shorter, unless ``steady_before``: then the days before the first are taken equal
    to the first, as a run that starts adapted to its day-0 routine assumes (simulation/initial_state.py). The
    HbA1c uses it: without it, a week of 3 x 300 g of carbohydrate in a healthy adult read as HbA1c 7.1 %, the week's
    mean glucose alone, where a real HbA1c would still mostly reflect the months before (scenario 31, 2026-12-06)."""
    values = np.asarray(values, dtype=float)
    cumulative = np.concatenate(([0.0], np.cumsum(values)))
    index = np.arange(1, len(values) + 1)
    start = np.maximum(index - window, 0)
    if not steady_before or len(values) == 0:
        return (cumulative[index] - cumulative[start]) / (index - start)
    missing = np.maximum(window - index, 0)  # days of the window before the run
    return (cumulative[index] - cumulative[start] + missing * values[0]) / (index - start + missing)


def stage_code(fasting_glucose_mg_dl, hba1c_percent) -> np.ndarray:
    """ADA stage as an index of ``STAGES`` (0 normal, 1 prediabetes, 2 diabetes) from fasting glucose and HbA1c,
    element-wise: the worse of the two decides."""
    fasting = np.asarray(fasting_glucose_mg_dl, dtype=float)
    hba1c = np.asarray(hba1c_percent, dtype=float)
    prediabetes = (fasting >= FASTING_GLUCOSE_PREDIABETES_MG_DL) | (hba1c >= HBA1C_PREDIABETES_PERCENT)
    diabetes = (fasting >= FASTING_GLUCOSE_DIABETES_MG_DL) | (hba1c >= HBA1C_DIABETES_PERCENT)
    return np.where(diabetes, 2, np.where(prediabetes, 1, 0))


def stage(fasting_glucose_mg_dl: float, hba1c_percent: float) -> str:
    """ADA stage from fasting glucose and HbA1c (the worse of the two decides)."""
    return STAGES[int(stage_code(fasting_glucose_mg_dl, hba1c_percent))]


CROSSINGS = {
    "fasting_glucose_100": ("fasting_glucose_mg_dl", FASTING_GLUCOSE_PREDIABETES_MG_DL),
    "fasting_glucose_126": ("fasting_glucose_mg_dl", FASTING_GLUCOSE_DIABETES_MG_DL),
    "hba1c_5.7": ("hba1c_percent", HBA1C_PREDIABETES_PERCENT),
    "hba1c_6.5": ("hba1c_percent", HBA1C_DIABETES_PERCENT),
    "postmeal_2h_140": ("postmeal_2h_glucose_mg_dl", TWO_HOUR_GLUCOSE_PREDIABETES_MG_DL),
    "postmeal_2h_200": ("postmeal_2h_glucose_mg_dl", TWO_HOUR_GLUCOSE_DIABETES_MG_DL),
}
"""Threshold crossings reported in the summary: name -> (daily column, threshold)."""
STAGE_CROSSINGS = {
    "prediabetes": ("fasting_glucose_100", "hba1c_5.7"),
    "diabetes": ("fasting_glucose_126", "hba1c_6.5"),
}
"""The crossings that enter each stage in ``stage``: the first of them is the day the stage begins."""


def first_crossing_day(values, threshold: float):
    """First index at which ``values`` >= ``threshold``, or None."""
    hits = np.flatnonzero(np.asarray(values) >= threshold)
    return int(hits[0]) if hits.size else None
