"""Unit conversions used by the kernels and the analysis (named, never inline)."""

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

# A meal's absorption speed (physiology/gut.py), here so the scenario schema can bound it without importing numba.
MIN_ABSORPTION_MULTIPLIER = 0.1
"""Slowest absorption multiplier a meal may have (exclusive): 0 would absorb nothing, a negative one emptied the gut
into negative glucose (-3.7e10 mg/dl in a 75-g OGTT)."""
MAX_ABSORPTION_MULTIPLIER = 3.0
"""Fastest absorption multiplier a meal may have: 1e6 absorbed a 75-g drink at once and gave a glucose of 31 mg/dl
at 150 min. Also the ceiling of a compartment's mean speed, which solver noise must not push past the meals'."""
