"""The trial clinic's follow-up schedule: when its visits fall and which of them run an OGTT.

One definition for both sides of a virtual trial: the sweep's runs keep the states on the days the clinic's
OGTTs need and run the test there (``outputs.yearly_ogtt``, ``glucosim.sweep.worker``), and the virtual DPP
clinic (``glucosim.analysis.sweep.clinic``) reads its visits off the runs on the same days.

The DPP (Knowler et al. 2002, NEJM 346:393; the protocol, DPP Research Group 1999, Diabetes Care 22:623)
measured fasting glucose every 6 months and ran a 75-g OGTT every year; a first elevated test was repeated,
usually within 6 weeks (Christophi et al. 2013, J Diabetes Complications 27:150).
"""

from __future__ import annotations

import math

from glucosim.physiology.units import DAYS_PER_YEAR

VISITS_PER_YEAR = 2
"""Fasting glucose every 6 months (the DPP's semiannual visits)."""
YEARLY_EVERY_VISITS = 2
"""The yearly visit (the OGTT, or HbA1c standing in for it) is every second visit."""
CONFIRMATION_DAYS = 42
"""A first elevated test is repeated about 6 weeks later (Knowler et al. 2002; Christophi et al. 2013)."""
CLINIC_DAILY_COLUMNS = ("fasting_glucose_mg_dl", "hba1c_percent")
"""The daily-table columns the virtual clinic reads its visits off (a sweep keeps them in ``outputs.daily``)."""
OGTT_PROTOCOL = "ogtt_75g"
"""The clinic's OGTT, at screening and at the yearly visits: the shipped 75-g OGTT (protocols/ogtt_75g.toml;
2-h glucose at 120 min)."""


def visit_day(visit: int) -> int:
    """The day of visit number ``visit`` (0: the screening) in a run long enough to hold it: every half year,
    rounded to whole days (visit 2, the year-1 visit, is day 365)."""
    return int(round(visit * DAYS_PER_YEAR / VISITS_PER_YEAR))


def visit_days(n_days: int) -> list[int]:
    """Day index of every visit (day 0 is the screening), within a run of ``n_days`` days: ``visit_day``, as many
    as the run holds to the nearest half year; the last visit falls on the run's last day when its half year would
    pass it (a run of 1.8 years has its second yearly visit on day 656)."""
    last = n_days - 1
    n_visits = int(math.floor(last / (DAYS_PER_YEAR / VISITS_PER_YEAR) + 0.5)) + 1
    return [min(visit_day(k), last) for k in range(n_visits)]


def is_yearly(visit: int) -> bool:
    """Whether visit number ``visit`` (0: the screening) is a yearly one (after the screening)."""
    return visit > 0 and visit % YEARLY_EVERY_VISITS == 0


def confirmation_day(day: int, n_days: int) -> int:
    """The day of the repeat test of a visit on ``day`` (the run's last day if the repeat would fall after it: a
    3-year run repeats its closing visit's tests on that same day's state)."""
    return min(day + CONFIRMATION_DAYS, n_days - 1)


def yearly_ogtt_days(n_days: int) -> list[tuple[int, int]]:
    """(visit day, repeat day) of each yearly OGTT of a run of ``n_days`` days, year 1 first."""
    return [(day, confirmation_day(day, n_days)) for k, day in enumerate(visit_days(n_days)) if is_yearly(k)]


OGTT_COLUMN_PREFIX = "ogtt_y"
"""What every OGTT column of a sweep's results starts with."""


def ogtt_days(n_days: int) -> tuple[int, ...]:
    """The distinct days (ascending) whose midnight state the yearly OGTTs need: each visit and its repeat. The
    last repeat falls on the run's last day (the visit's own day when the visit is the last day: the same state
    tested again, with a fresh draw of the test's variability)."""
    return tuple(sorted({day for pair in yearly_ogtt_days(n_days) for day in pair}))


def ogtt_column(year: int, repeat: bool = False) -> str:
    """The results column of the true 2-h glucose of year ``year``'s OGTT (or of its repeat 6 weeks later)."""
    return f"{OGTT_COLUMN_PREFIX}{year}_{'repeat_' if repeat else ''}two_hour_glucose_mg_dl"


def ogtt_columns(n_years: int) -> list[str]:
    """The OGTT columns of ``n_years`` yearly visits (``len(yearly_ogtt_days(n_days))``), in order: year 1's
    visit, its repeat, year 2's visit, ..."""
    return [ogtt_column(year, repeat) for year in range(1, n_years + 1) for repeat in (False, True)]
