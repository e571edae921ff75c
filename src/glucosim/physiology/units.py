"""Unit conversions used by the kernels and the analysis (named, never inline)."""

import math
from typing import TYPE_CHECKING, TypeVar

if TYPE_CHECKING:  # numpy only for the annotations: importing glucosim must not load numpy (glucosim._threads)
    import numpy as np

MINUTES_PER_HOUR = 60.0
MINUTES_PER_DAY = 1440.0
DAYS_PER_YEAR = 365.25
MINUTES_PER_YEAR = MINUTES_PER_DAY * DAYS_PER_YEAR
HOURS_PER_DAY = 24.0
MG_DL_PER_MMOL_L = 18.016
"""Glucose: 1 mmol/l = 18.016 mg/dl (molar mass 180.16 g/mol)."""
PMOL_L_PER_UU_ML = 6.0
"""Insulin: 1 uU/ml = 6.0 pmol/l (Heinemann 2010 J Diabetes Sci Technol 4:1523)."""
MG_PER_G = 1000.0
PERCENT = 100.0

Amount = TypeVar("Amount", float, "np.ndarray")


def grams_to_mg_per_kg(grams: Amount, body_weight_kg: float) -> Amount:
    """An amount eaten or excreted in grams as the model's per-kilogram dose (mg/kg): the gut's compartments, the
    meal plan and the daily glucose budget are all per kilogram of body weight (DM2007's convention)."""
    return grams * MG_PER_G / body_weight_kg


def mg_per_kg_to_grams(mg_per_kg: Amount, body_weight_kg: float) -> Amount:
    """The inverse of ``grams_to_mg_per_kg``: a per-kilogram amount (mg/kg) in grams for a subject of
    ``body_weight_kg``."""
    return mg_per_kg * body_weight_kg / MG_PER_G


def year_start_day(year: float) -> int:
    """The day (counted from 0) on which year ``year`` of a run begins: years of 365.25 days, rounded to whole days
    (year 1 is day 365, year 2 day 730, year 20 day 7305)."""
    return int(round(year * DAYS_PER_YEAR))


def latest_year_in_run(n_days: int) -> float:
    """The latest year, to 1e-3, whose ``year_start_day`` is still a day of a run of ``n_days`` days (a 20-year run
    of 7305 days ends on day 7304, so its latest year is 19.998, not 20: year 20 is day 7305, one past its end)."""
    return math.floor((n_days - 0.5) / DAYS_PER_YEAR * 1000.0 - 1e-6) / 1000.0


# A meal's absorption speed (physiology/gut.py), here so the scenario schema can bound it without importing numba.
MIN_ABSORPTION_MULTIPLIER = 0.1
"""Slowest absorption multiplier a meal may have (exclusive): 0 would absorb nothing, a negative one emptied the gut
into negative glucose (-3.7e10 mg/dl in a 75-g OGTT)."""
MAX_ABSORPTION_MULTIPLIER = 3.0
"""Fastest absorption multiplier a meal may have: 1e6 absorbed a 75-g drink at once and gave a glucose of 31 mg/dl
at 150 min. Also the ceiling of a compartment's mean speed, which solver noise must not push past the meals'."""
