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
