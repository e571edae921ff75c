"""The scenario schema. Units are in field names; unknown fields are errors.

A scenario is plain data: a subject (preset plus overrides), a duration, a
daily routine (meals, exercise, sleep), a drift of insulin sensitivity, and
changes that take effect from a given day or year.
"""

import math
import warnings
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, model_validator

from glucosim.physiology.units import (
    DAYS_PER_YEAR,
    HOURS_PER_DAY,
    MAX_ABSORPTION_MULTIPLIER,
    MIN_ABSORPTION_MULTIPLIER,
    latest_year_in_run,
    year_start_day,
)

AbsorptionName = Literal["slow", "medium", "fast"]
Absorption = AbsorptionName | Annotated[float, Field(gt=MIN_ABSORPTION_MULTIPLIER, le=MAX_ABSORPTION_MULTIPLIER)]
"""A meal's or a drink's absorption speed: a name, or a multiplier of the medium speed."""

DEPRECATED_SUBJECT_FIELDS = {"insulin_sensitivity": "insulin_sensitivity_whole_body"}
"""Old subject field name -> its name in the parameter table (the one name used everywhere)."""

DURATION_FIELDS = ("duration_years", "duration_days", "duration_hours")
"""A scenario gives exactly one of these; a change of one replaces the others."""
MAX_SCENARIO_YEARS = 60.0
"""Longest run, years (``duration_years``' limit); a clinic visit's year lies within it (1e300 gave a 300-digit day
number in the error)."""
MAX_SCENARIO_DAYS = round(MAX_SCENARIO_YEARS * DAYS_PER_YEAR)
"""Longest run in days (``duration_days``' limit, and a change's: a change after the run's end is refused)."""
MAX_DURATION_HOURS = 365 * HOURS_PER_DAY
"""``duration_hours``' limit: hours are for runs of up to a year."""
MIN_DURATION_HOURS = 1.0
"""Shortest run: an hour (12 points of the 5-minute output grid; 1e-9 h left no grid to sample)."""


def _tuples(value):
    """TOML arrays arrive as lists; the frozen schema holds tuples (lists of tables stay tables)."""
    return tuple(_tuples(item) for item in value) if isinstance(value, list) else value


def _whole_float_to_int(value):
    """3.0 -> 3 (a sweep sets every variable as a float); 3.5, "3" and true stay wrong for the strict check."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


WholeNumber = Annotated[int, BeforeValidator(_whole_float_to_int)]
"""An integer field that also takes a whole float (never a string or a boolean)."""

MIN_MEAL_CARBS_G = 1.0
"""Least carbohydrate in one meal after ``carbs_scale``: the meal model carries a meal's fat and protein with its
carbohydrate (their ratio to it), so a meal needs some; 5e-324 g with 300 g of fat made the ratio infinite and
the run failed in the solver, naming no field (a meal of eggs and bacon still has 1-2 g)."""
MAX_MEAL_CARBS_G = 400.0
"""Most carbohydrate in one meal after ``carbs_scale`` (the meal field's own limit)."""
MEAL_STACK_WINDOW_H = 1.0
"""Meals that start within this many hours of one another count as one meal for ``MAX_MEAL_CARBS_G`` (clock times
wrap at midnight): most of a meal is still in the stomach an hour later (gastric emptying of a mixed meal takes
2-4 h), so three 400-g meals a minute apart were a 1,200-g meal split into entries, which the per-meal limit
did not see."""
MAX_DAILY_CARBS_G = 1500.0
"""Most carbohydrate in a day after ``carbs_scale``: about three times a high habitual intake (~500 g/day in
endurance athletes), far beyond what the meal model was built for."""

BMI_BAND_KG_M2 = (12.0, 100.0)
"""Body mass index a living adult can have, kg/m^2: a subject outside it at the start is refused at load
(``body_weight`` over ``height_cm``), and a run whose weight (start weight plus the daily ``weight_change_kg``)
leaves it is flagged implausible (``simulation.plausibility.check_weight``). Low end: the limit of human survival
in starvation, BMI ~13 in men and ~11 in women, mean ~12 (Henry 1990 Eur J Clin Nutr 44:329, "Body mass index
and the limits of human survival": not read, the numbers as quoted by secondary summaries); a 75 kg, 175 cm
subject eating 1,500 kcal/day below expenditure reached 28 kg (BMI 9.2) and had only its fat floor flagged, and a
45 kg one eating 600 kcal/day below reached BMI 9.6 within a year with no flag at all. High end: chosen, not from
a source: BMI 60 is already "super-super obesity" in bariatric series, and above 100 only single case reports
exist; the energy-balance model (Hall 2011) was not built on them. Like the other bands it catches impossible
states, not unusual ones."""


MIN_SLEEP_H = 4.0
"""Shortest nightly sleep the sleep-loss mechanism represents: its sources restricted sleep to 4 h in bed (Rao 2015
J Clin Endocrinol Metab 100:1664, five nights, the source of sleep_peripheral_sensitivity_loss; Spiegel 1999 Lancet
354:1435, six nights; Donga 2010, one night) or 5 h (Buxton 2010), and the appetite term's meta-analysis a deficit
of ~3.5 h (Al Khatib 2017), all per-hour effects taken as linear in the deficit. Below 4 h every night is total or
near-total sleep deprivation, which no source of the model studied over more than a night or two (and which people
do not survive for long); ``sleep_h = 0`` every night gave a healthy-reserve subject diabetes within two years
(fasting glucose 263 mg/dl) in a run that reported success."""
MAX_SLEEP_H = 14.0
"""Longest nightly sleep (sleep beyond ``sleep_need`` has no modelled effect)."""


def body_mass_index(weight_kg, height_cm):
    """Body mass index, kg/m^2."""
    return weight_kg / (height_cm / 100.0) ** 2


CLOCK_STEPS_PER_HOUR = 1024
"""Clock times are kept on a grid of 1/1024 h (3.5 s), and durations within a day on 1/64 min (0.94 s): binary
fractions, so every event minute (time_h * 60, start + duration) and every midnight + minute is exact in
floating point. A meal at 3e-148 h once made a zero-length solver segment (a traceback)."""
DURATION_STEPS_PER_MIN = 64


def _clock_grid(value: float) -> float:
    return math.floor(value * CLOCK_STEPS_PER_HOUR) / CLOCK_STEPS_PER_HOUR  # down: 23.99999 stays before midnight


def _duration_grid(value: float) -> float:
    return max(round(value * DURATION_STEPS_PER_MIN), 1) / DURATION_STEPS_PER_MIN


ClockHours = Annotated[float, AfterValidator(_clock_grid)]
"""A clock time in hours after midnight, on the 1/1024-h grid."""
DayMinutes = Annotated[float, AfterValidator(_duration_grid)]
"""A duration within a day in minutes, on the 1/64-min grid (at least one step)."""


class StrictModel(BaseModel):
    """Base of every input schema: unknown fields are errors, nothing is coerced ("60" is not 60, true is
    not 1, "yes" is not True) and NaN or infinity is never a number."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True, allow_inf_nan=False)

    @model_validator(mode="before")
    @classmethod
    def _arrays_as_tuples(cls, data):
        return {key: _tuples(value) for key, value in data.items()} if isinstance(data, dict) else data


_Strict = StrictModel


class Meal(_Strict):
    """A meal eaten every day at ``time_h`` (hours after midnight)."""

    time_h: ClockHours = Field(ge=0.0, lt=24.0, description="clock time of the meal, hours after midnight")
    carbs_g: float = Field(gt=0.0, le=400.0, description="carbohydrate in the meal, grams")
    absorption: Absorption = Field(
        default="medium",
        description="speed of absorption: 'slow' (fibre, low GI), 'medium', 'fast' (liquid, high GI), or a multiplier",
    )
    fat_g: float = Field(
        default=0.0, ge=0.0, le=300.0, description="fat in the meal, grams (energy: 9 kcal/g; slows gastric emptying)"
    )
    protein_g: float = Field(
        default=0.0,
        ge=0.0,
        le=300.0,
        description="protein in the meal, grams (4 kcal/g; slows gastric emptying, potentiates insulin secretion)",
    )


EXHAUSTION_LIMITS_MIN = {70.0: 241.0, 74.0: 204.0, 90.0: 30.25, 100.0: 11.3}
"""The longest a session at an intensity (% VO2max -> minutes) can be held: the upper tail of measured times to
exhaustion (the mean + 3 SD, or the longest observed, whichever is longer), log-linear between the points and no limit
below the lowest (trained people ride for hours at 60-65 %). Abstracts read:
- 70 %: 170 +- 9 min (mean +- SE) to fatigue in 7 trained cyclists (Coggan & Coyle 1987, J Appl Physiol 63:2388):
  SD ~24 min, so 241.
- 74 % (70-79 %): 157 +- 5 min (mean +- SE) in 10 trained cyclists fed carbohydrate, 134 +- 6 without (Coyle et al.
  1983, J Appl Physiol 55:230): SD ~16 min, so 204.
- 90 %: 7:00-30:15 min:s (the range; mean 16:28) at the power of 90 % VO2max in 11 elite road cyclists (time to
  exhaustion at 90 and 100 % VO2max and 3-km performance, 2021, read on acemap.info); 13 min 22 s +- 4 min 30 s (SD)
  at 90 % of the running speed at VO2max in 7 students (Eur J Appl Physiol 2000 82:178): mean + 3 SD 26.9; so 30.25.
- 100 %: 5 min 47 s +- 1 min 50 s (SD) in the students, mean + 3 SD 11.3; 3:10-6:00 in the cyclists; so 11.3."""
DAILY_EXHAUSTING_EFFORTS = 2.0
"""How many exhausting efforts a day's sessions may add up to: the sum over a weekday's sessions of duration / the
longest session at its intensity (``longest_session_min``). Assumed, not measured: after exercising to fatigue at 70 %
VO2max and resting 20 min, the same cyclists went on for 10 +- 1 min more (6 % of the first bout; 26 min after eating
carbohydrate, 43 with glucose infused; Coggan & Coyle 1987, above), so one exhausting effort nearly spends a day's
capacity; two leave room for a meal between sessions."""


def longest_session_min(intensity_pct_vo2max: float) -> float:
    """The longest session (minutes) held at ``intensity_pct_vo2max``: no limit below ``EXHAUSTION_LIMITS_MIN``'s
    lowest intensity (a whole day), else log-linear between its points."""
    from glucosim.physiology.units import MINUTES_PER_DAY

    points = sorted(EXHAUSTION_LIMITS_MIN.items())
    if intensity_pct_vo2max < points[0][0]:
        return MINUTES_PER_DAY
    if intensity_pct_vo2max in EXHAUSTION_LIMITS_MIN:  # exactly, not exp(log(x)) a rounding below it
        return EXHAUSTION_LIMITS_MIN[intensity_pct_vo2max]
    for (low_pct, low_min), (high_pct, high_min) in zip(points, points[1:]):
        if intensity_pct_vo2max <= high_pct:
            share = (intensity_pct_vo2max - low_pct) / (high_pct - low_pct)
            return math.exp(math.log(low_min) + share * (math.log(high_min) - math.log(low_min)))
    return points[-1][1]


def _limits_text() -> str:
    return ", ".join(f"{minutes:g} min at {pct:g} %" for pct, minutes in sorted(EXHAUSTION_LIMITS_MIN.items()))


def _check_exercise_capacity(sessions) -> None:
    """Refuse a weekday whose sessions add up to more than ``DAILY_EXHAUSTING_EFFORTS`` exhausting efforts (sessions
    each within their own limit, back to back: 60 sessions of 6 min at 100 % VO2max passed one by one)."""
    for weekday in range(7):
        today = [session for session in sessions if weekday in session.weekdays]
        efforts = sum(session.duration_min / longest_session_min(session.intensity_pct_vo2max) for session in today)
        if efforts > DAILY_EXHAUSTING_EFFORTS:
            raise ValueError(
                f"the sessions of weekday {weekday} add up to {efforts:.3g} exhausting efforts (each session's minutes "
                f"over the longest anyone holds its intensity: {_limits_text()}, none below "
                f"{min(EXHAUSTION_LIMITS_MIN):g} %); allowed: at most {DAILY_EXHAUSTING_EFFORTS:g} a day"
            )


class ExerciseSession(_Strict):
    """An exercise session on the given weekdays (0 = first day of the run's week)."""

    start_h: ClockHours = Field(ge=0.0, lt=24.0, description="clock time the session starts, hours after midnight")
    duration_min: DayMinutes = Field(gt=0.0, le=360.0, description="duration, minutes")
    intensity_pct_vo2max: float = Field(gt=0.0, le=100.0, description="intensity, % of VO2max")
    weekdays: tuple[WholeNumber, ...] = Field(
        default=(0, 1, 2, 3, 4, 5, 6), description="days of the week (0-6) with this session"
    )
    kind: Literal["aerobic", "resistance"] = Field(
        default="aerobic",
        description="aerobic (raises muscle insulin action: training level) or resistance (builds muscle mass)",
    )

    @model_validator(mode="after")
    def _check(self):
        if not self.weekdays or any(day < 0 or day > 6 for day in self.weekdays):
            raise ValueError("weekdays must be a non-empty list of integers 0-6")
        if self.start_h * 60.0 + self.duration_min > 24.0 * 60.0:
            raise ValueError("a session must end before midnight (start_h*60 + duration_min <= 1440)")
        longest = longest_session_min(self.intensity_pct_vo2max)
        if self.duration_min > longest:
            # 6 h a day at 100 % VO2max for 14 days ran as plausible, losing 9 kg (a bad-input hunt, 2026-12-05)
            raise ValueError(
                f"a session of {self.duration_min:g} min at {self.intensity_pct_vo2max:g} % VO2max cannot be held "
                f"(times to exhaustion: {_limits_text()}, log-linear between, none below "
                f"{min(EXHAUSTION_LIMITS_MIN):g} %); allowed: at most {longest:.4g} min at "
                f"{self.intensity_pct_vo2max:g} %, or a lower intensity"
            )
        return self


class Drift(_Strict):
    """Gradual change of insulin sensitivity, and of the beta cells' reserve, as a fraction per year (-0.05 = 5 %
    lower each year).

    ``whole_body_per_year`` applies to every tissue; the per-tissue rates add to it.
    The drift stands for the slow causes the model does not resolve: ageing,
    inactivity, visceral fat beyond the modelled weight change.

    ``beta_reserve_per_year`` lowers the secretory reserve: the caps that beta-cell function and mass can reach
    (``beta_function_max``, ``beta_mass_max``), each by this fraction a year, whatever the glucose. It stands for the
    loss of beta-cell capacity that goes on under any therapy once diabetes has begun (UKPDS 16: function fell on
    diet, sulphonylurea and insulin alike; docs/literature/beta_cell_decline_beyond_glucose.md gives ~2-4 % of normal
    capacity a year; UKPDS's HOMA-%B, 50 -> 28 % in 6 years, is ~10 % a year of what is left, glucotoxicity included).
    Allowed down to -0.2 (twice that). It acts only where demand has reached the reserve: a subject
    whose function works below its cap (most healthy adults) is not changed by it until the cap comes down to its
    function. A decline only (a reserve that grows with the years has no source).
    """

    whole_body_per_year: float = Field(default=0.0, ge=-0.5, le=0.5)
    liver_per_year: float = Field(default=0.0, ge=-0.5, le=0.5)
    muscle_per_year: float = Field(default=0.0, ge=-0.5, le=0.5)
    adipose_per_year: float = Field(default=0.0, ge=-0.5, le=0.5)
    beta_reserve_per_year: float = Field(
        default=0.0,
        ge=-0.2,
        le=0.0,
        description="fraction of the beta cells' secretory reserve (function and mass caps) lost each year (<= 0)",
    )


def _check_meal_times(meals) -> None:
    """Two meals at one clock time (after the 1/1024-h grid) are refused: the day's schedule kept only one of them,
    silently (a change's list was not checked, and 50 g + 60 g at 08:00 ran as the 60-g meal alone)."""
    seen = set()
    for meal in meals:
        if meal.time_h in seen:
            raise ValueError(
                f"two meals at the same time_h ({meal.time_h:g} h; clock times are kept to 1/{CLOCK_STEPS_PER_HOUR} h, "
                f"{3600 / CLOCK_STEPS_PER_HOUR:.1f} s); allowed: one meal per time (give their sum as one meal)"
            )
        seen.add(meal.time_h)


class Routine(_Strict):
    """What happens every day."""

    meals: tuple[Meal, ...] = Field(default=(), description="the day's meals")
    exercise: tuple[ExerciseSession, ...] = Field(default=(), description="exercise sessions")
    sleep_h: float = Field(
        default=8.0,
        ge=MIN_SLEEP_H,
        le=MAX_SLEEP_H,
        description="hours of sleep each night (from 4: the shortest sleep the sleep-loss sources studied)",
    )
    sleep_midpoint_h: float = Field(
        default=3.0,
        ge=0.0,
        lt=24.0,
        description="clock time of the middle of sleep (3 = 23:00-07:00; night work: e.g. 12 for 08:00-16:00)",
    )
    clock_shift_h: float = Field(
        default=0.0,
        ge=-12.0,
        le=12.0,
        description="hours the body clock runs later than a day-worker's (0: set by daylight, as in most night work)",
    )
    carbs_scale: float = Field(default=1.0, gt=0.0, le=3.0, description="multiplier on every meal's carbohydrate")
    energy_surplus_kcal_per_day: float = Field(
        default=0.0,
        ge=-1500.0,
        le=1500.0,
        description="explicit extra energy intake every day, kcal/day (an override on top of the food)",
    )
    other_food_kcal_per_day: Annotated[float, Field(ge=0.0, le=6000.0)] | Literal["balance"] = Field(
        default="balance",
        description=(
            "energy eaten besides what the meals list (their fat and protein if not given, snacks, drinks), kcal/day,"
            " on days with meals; 'balance': what puts the subject at energy balance on the starting routine"
        ),
    )
    cortisol_rel: float = Field(default=1.0, ge=0.5, le=3.0, description="plasma cortisol relative to normal (stress)")
    daily_steps: float | None = Field(
        default=None,
        ge=0.0,
        le=30000.0,
        description="steps a day outside exercise sessions; default: the subject's habitual steps (steps_reference)",
    )
    drift: Drift = Field(default_factory=Drift)

    @model_validator(mode="after")
    def _check(self):
        _check_meal_times(self.meals)
        _check_exercise_capacity(self.exercise)
        return self


class Change(_Strict):
    """From ``from_year`` (or ``from_day``) on, replace the named parts of the routine.

    Fields left out keep their previous value; ``meals`` and ``exercise``
    replace the whole list when given.
    """

    from_year: float | None = Field(default=None, ge=0.0, le=MAX_SCENARIO_YEARS)
    from_day: WholeNumber | None = Field(default=None, ge=0, le=MAX_SCENARIO_DAYS)
    label: str = Field(default="", description="what this change is, for plots and summaries")
    meals: tuple[Meal, ...] | None = None
    exercise: tuple[ExerciseSession, ...] | None = None
    sleep_h: float | None = Field(default=None, ge=MIN_SLEEP_H, le=MAX_SLEEP_H)
    sleep_midpoint_h: float | None = Field(default=None, ge=0.0, lt=24.0)
    clock_shift_h: float | None = Field(default=None, ge=-12.0, le=12.0)
    carbs_scale: float | None = Field(default=None, gt=0.0, le=3.0)
    energy_surplus_kcal_per_day: float | None = Field(default=None, ge=-1500.0, le=1500.0)
    other_food_kcal_per_day: Annotated[float, Field(ge=0.0, le=6000.0)] | Literal["balance"] | None = None
    cortisol_rel: float | None = Field(default=None, ge=0.5, le=3.0)
    daily_steps: float | None = Field(default=None, ge=0.0, le=30000.0)
    drift: Drift | None = None

    @model_validator(mode="after")
    def _check(self):
        if (self.from_year is None) == (self.from_day is None):
            raise ValueError("give exactly one of from_year or from_day")
        _check_meal_times(self.meals or ())
        _check_exercise_capacity(self.exercise or ())
        return self

    @property
    def start_day(self) -> int:
        """First day (0-based) on which the change applies."""
        if self.from_day is not None:
            return self.from_day
        assert self.from_year is not None  # the validator requires from_day or from_year
        return year_start_day(self.from_year)


SHORTHAND_PARAMETERS = {
    "insulin_sensitivity_whole_body": "insulin_sensitivity_whole_body",
    "insulin_sensitivity_liver": "insulin_sensitivity_liver",
    "insulin_sensitivity_muscle": "insulin_sensitivity_muscle",
    "insulin_sensitivity_adipose": "insulin_sensitivity_adipose",
    "beta_cell_reserve": "beta_function_max",
    "beta_cell_mass": "beta_mass_initial",
    "body_weight_kg": "body_weight",
}
"""Subject field -> the parameter-table entry it sets (``subject.parameters`` overrides it)."""


class Subject(_Strict):
    """Who is simulated: a preset plus overrides (all relative to healthy = 1 unless a unit is named)."""

    preset: str = Field(default="healthy", description="a preset in models/presets (glucosim presets lists them)")
    insulin_sensitivity_whole_body: float | None = Field(
        default=None, description="whole-body sensitivity, healthy = 1"
    )
    insulin_sensitivity_liver: float | None = None
    insulin_sensitivity_muscle: float | None = None
    insulin_sensitivity_adipose: float | None = None
    beta_cell_reserve: float | None = Field(default=None, description="highest beta-cell function, healthy reserve = 4")
    beta_cell_mass: float | None = Field(default=None, description="starting beta-cell mass, healthy = 1")
    body_weight_kg: float | None = None
    start_adapted: bool = Field(
        default=True,
        description=(
            "start with beta-cell function adapted so mean glucose sits at the set point (if the reserve allows)"
        ),
    )
    parameters: dict[str, float] = Field(default_factory=dict, description="any other parameter by table name")

    @model_validator(mode="before")
    @classmethod
    def _deprecated_names(cls, data):
        # One name per quantity: the parameter table's. The old shorthand still loads, with a notice.
        if isinstance(data, dict):
            for old, new in DEPRECATED_SUBJECT_FIELDS.items():
                if old in data:
                    warnings.warn(
                        f"subject.{old} is deprecated; use subject.{new} (the parameter table's name)",
                        DeprecationWarning,
                        stacklevel=2,
                    )
                    if new in data:
                        raise ValueError(f"give subject.{new} only (subject.{old} is its deprecated alias)")
                    data = {new if key == old else key: value for key, value in data.items()}
        return data

    def parameter_overrides(self) -> dict[str, float]:
        """The subject's overrides by parameter-table name (shorthand fields first, then ``parameters``)."""
        shorthand = {name: getattr(self, field) for field, name in SHORTHAND_PARAMETERS.items()}
        overrides = {name: value for name, value in shorthand.items() if value is not None}
        overrides.update(self.parameters)
        return overrides


class Output(_Strict):
    """What to keep besides the daily table and yearly summary."""

    trajectory_days: tuple[WholeNumber, ...] = Field(
        default=(),
        description="extra days (0-based) whose 5-minute trajectories are kept; the first and last always are",
    )


class ClinicVisit(_Strict):
    """A clinical test run on the subject at given years of the scenario (on that day's morning)."""

    protocol: str = Field(min_length=1, description="a shipped protocol name (glucosim clinic --help) or a file path")
    at_years: tuple[Annotated[float, Field(ge=0.0, le=MAX_SCENARIO_YEARS)], ...] = Field(
        min_length=1, description="years at which the test is done"
    )

    @model_validator(mode="after")
    def _check(self):
        if any(year < 0 for year in self.at_years):
            raise ValueError("at_years must be >= 0")
        return self


def _largest_meal_stack(meals, scale: float) -> tuple[float, float, float] | None:
    """(carbohydrate g, first and last clock hour) of the largest group of two or more meals that start within
    ``MEAL_STACK_WINDOW_H`` of the group's first, the clock wrapping at midnight; None with fewer than two meals."""
    times = sorted((meal.time_h, meal.carbs_g * scale) for meal in meals)
    best = None
    for index, (start, _) in enumerate(times):
        group = [
            (time, carbs)
            for time, carbs in times[index:] + [(t + 24.0, c) for t, c in times[:index]]
            if time - start < MEAL_STACK_WINDOW_H
        ]
        if len(group) > 1:
            total = sum(carbs for _, carbs in group)
            if best is None or total > best[0]:
                best = (total, start, group[-1][0] % 24.0)
    return best


class Scenario(_Strict):
    """A complete scenario file."""

    name: str = Field(min_length=1)
    description: str = ""
    duration_years: float | None = Field(default=None, gt=0.0, le=MAX_SCENARIO_YEARS)
    duration_days: WholeNumber | None = Field(default=None, gt=0, le=MAX_SCENARIO_DAYS)
    duration_hours: ClockHours | None = Field(default=None, ge=MIN_DURATION_HOURS, le=MAX_DURATION_HOURS)
    subject: Subject = Field(default_factory=Subject)
    routine: Routine = Field(default_factory=Routine)
    changes: tuple[Change, ...] = ()
    clinic: tuple[ClinicVisit, ...] = Field(default=(), description="clinical tests scheduled during the run")
    output: Output = Field(default_factory=Output)

    @model_validator(mode="after")
    def _check(self):
        durations = [self.duration_years, self.duration_days, self.duration_hours]
        if sum(value is not None for value in durations) != 1:
            raise ValueError("give exactly one of duration_years, duration_days or duration_hours")
        starts = [change.start_day for change in self.changes]
        for index in range(1, len(starts)):
            if starts[index] < starts[index - 1]:
                raise ValueError(
                    f"changes[{index}] starts on day {starts[index]}, before changes[{index - 1}] (day "
                    f"{starts[index - 1]}): changes must be listed in time order"
                )
        self._check_same_day_changes(starts)
        if starts and starts[-1] >= self.n_days:
            raise ValueError(f"a change starts on day {starts[-1]}, after the end of the run (day {self.n_days - 1})")
        for index, visit in enumerate(self.clinic):
            late = [year for year in visit.at_years if self.visit_day(year) >= self.n_days]
            if late:
                last_day = self.n_days - 1
                latest = latest_year_in_run(self.n_days)
                raise ValueError(
                    f"clinic[{index}].at_years: year {late[0]:g} is day {self.visit_day(late[0])}, after the end of "
                    f"the run (last day {last_day}); allowed: years 0 to {latest:g} (a visit is a morning of the run: "
                    f"day round(year x {DAYS_PER_YEAR:g}))"
                )
        tested: dict[tuple[str, int], int] = {}
        for index, visit in enumerate(self.clinic):
            for year in visit.at_years:
                key = (visit.protocol, self.visit_day(year))
                if key in tested:  # was run again from the same morning: identical rows, twice
                    raise ValueError(
                        f"clinic[{index}].at_years: year {year:g} is day {key[1]}, on which clinic[{tested[key]}] "
                        f"already runs {visit.protocol!r}; allowed: each protocol once a day (years that round to "
                        f"the same day, round(year x 365.25), are the same visit)"
                    )
                tested[key] = index
        outside = [day for day in self.output.trajectory_days if not 0 <= day < self.n_days]
        if outside:
            raise ValueError(
                f"output.trajectory_days: day {outside[0]} is outside the run (days 0 to {self.n_days - 1})"
            )
        self._check_carbohydrate()
        self._check_food_without_meals()
        return self

    def _check_same_day_changes(self, starts: list[int]) -> None:
        """Refuse two changes that start on the same day and set the same field: the later one wins on its day, so
        the earlier value would never apply (bad-input hunt, 2026-12-05). Fields given as None set nothing."""
        timing = {"from_day", "from_year", "label"}
        given = [
            {name for name in change.model_fields_set - timing if getattr(change, name) is not None}
            for change in self.changes
        ]
        for first in range(len(starts)):
            for second in range(first + 1, len(starts)):
                if starts[second] != starts[first]:
                    break
                both = sorted(given[first] & given[second])
                if both:
                    raise ValueError(
                        f"changes[{first}] and changes[{second}] both start on day {starts[first]} and both set "
                        f"{', '.join(both)}: the earlier value would never apply; give one change, or one value"
                    )

    def _check_food_without_meals(self) -> None:
        """Refuse an energy intake besides the meals that is never eaten.

        It is eaten only on days with meals (``ScenarioProgram.food_energy_kcal_day``), so 6000 kcal/day on a routine
        without meals ran as a fast, with no word (bad-input hunt, 2026-12-05). A value is refused where it is given
        if no meal is eaten while it is in force: from there until a change gives another value. A fast that keeps
        the intake for when meals return, or a fasting routine whose meals a later change brings, is not refused.
        """
        meals = self.routine.meals
        phases: list[tuple[str, tuple, object, bool]] = [("routine", meals, self.routine.other_food_kcal_per_day, True)]
        for index, change in enumerate(self.changes):
            meals = change.meals if change.meals is not None else meals
            phases.append(
                (f"changes[{index}]", meals, change.other_food_kcal_per_day, change.other_food_kcal_per_day is not None)
            )
        explicit_routine = "other_food_kcal_per_day" in self.routine.model_fields_set
        for start, (where, _, other, sets) in enumerate(phases):
            if not sets or (start == 0 and not explicit_routine) or not isinstance(other, float) or other <= 0.0:
                continue
            in_force = [phases[start]]
            for phase in phases[start + 1 :]:
                if phase[3]:  # another value from there on
                    break
                in_force.append(phase)
            if not any(phase_meals for _, phase_meals, _, _ in in_force):
                raise ValueError(
                    f"{where}.other_food_kcal_per_day: {other:g} kcal/day is eaten only on days with meals, and no "
                    f"meal is eaten while it is in force; give meals, or leave it out for days without food"
                )

    def meal_phases(self) -> list[tuple[str, tuple, float, bool]]:
        """The meals and ``carbs_scale`` in force in the routine and after each change: (where, meals, carbs_scale,
        whether that part gave the meals), where is "routine" or "changes[i]" (a change keeps what it does not
        give)."""
        meals, scale = self.routine.meals, self.routine.carbs_scale
        phases = [("routine", meals, scale, True)]
        for index, change in enumerate(self.changes):
            meals = change.meals if change.meals is not None else meals
            scale = change.carbs_scale if change.carbs_scale is not None else scale
            phases.append((f"changes[{index}]", meals, scale, change.meals is not None))
        return phases

    def _check_carbohydrate(self) -> None:
        """Each meal's carbohydrate after ``carbs_scale``, and each day's, within what a person can eat (a 400 g
        meal x 3 gave 1,200 g meals and a glucose of 6,700 mg/dl), in the routine and after every change."""
        for where, meals, scale, _ in self.meal_phases():
            largest = max((meal.carbs_g for meal in meals), default=0.0) * scale
            daily = sum(meal.carbs_g for meal in meals) * scale
            stacked = _largest_meal_stack(meals, scale)
            if stacked is not None and stacked[0] > MAX_MEAL_CARBS_G:
                total, first, last = stacked
                raise ValueError(
                    f"{where}.meals: the meals at {first:g} h to {last:g} h together hold {total:g} g carbohydrate "
                    f"after carbs_scale {scale:g}; allowed: at most {MAX_MEAL_CARBS_G:g} g within "
                    f"{MEAL_STACK_WINDOW_H:g} h (meals that close are one meal in the stomach)"
                )
            smallest = min((meal.carbs_g for meal in meals), default=MIN_MEAL_CARBS_G) * scale
            if smallest < MIN_MEAL_CARBS_G:
                raise ValueError(
                    f"{where}.meals: a meal of {smallest:g} g carbohydrate after carbs_scale {scale:g}; allowed: at "
                    f"least {MIN_MEAL_CARBS_G:g} g per meal (fat and protein are absorbed with the meal's carbohydrate)"
                )
            if largest > MAX_MEAL_CARBS_G:
                raise ValueError(
                    f"{where}: a meal of {largest:g} g carbohydrate after carbs_scale {scale:g} "
                    f"(at most {MAX_MEAL_CARBS_G:g} g per meal)"
                )
            if daily > MAX_DAILY_CARBS_G:
                raise ValueError(
                    f"{where}: {daily:g} g carbohydrate a day after carbs_scale {scale:g} "
                    f"(at most {MAX_DAILY_CARBS_G:g} g a day)"
                )

    @property
    def duration_min(self) -> float:
        """Length of the run, minutes (years are rounded to whole days)."""
        from glucosim.physiology.units import MINUTES_PER_DAY, MINUTES_PER_HOUR

        if self.duration_hours is not None:
            return self.duration_hours * MINUTES_PER_HOUR
        if self.duration_days is not None:
            return self.duration_days * MINUTES_PER_DAY
        assert self.duration_years is not None  # the validator requires exactly one duration
        return max(1, year_start_day(self.duration_years)) * MINUTES_PER_DAY

    @staticmethod
    def visit_day(year: float) -> int:
        """The day (0-based) of a clinic visit at ``year``."""

        return year_start_day(year)

    @property
    def n_days(self) -> int:
        """Number of (possibly partial, for hour-long runs) days in the run."""
        import math

        from glucosim.physiology.units import MINUTES_PER_DAY

        return int(math.ceil(self.duration_min / MINUTES_PER_DAY - 1e-9))


SENSITIVITY_TISSUES = ("liver", "muscle", "adipose")


def meal_energy_problem(scenario: Scenario, parameters) -> str | None:
    """Why a day's meals hold more energy than the subject's stomach can empty in a day, or None.

    The stomach delivers at most ``gastric_energy_emptying_max`` kcal/min to the duodenum (physiology/gut.py: the
    emptying flux saturates below it, and fat in the intestine slows it further), so meals of more energy a day than
    that x 1,440 min are never emptied: the surplus stays in the stomach and grows day after day (three meals of
    400 g carbohydrate, 300 g fat and 300 g protein held ~34 kg of food in the stomach after 14 days, with a
    plausible glucose because the food never reached the blood; scenario 31's 3,600 kcal of meals a day at the
    range's lowest emptying, 2 kcal/min, piled up 180 g of carbohydrate a day). Checked in the routine and after
    every change, each meal's carbohydrate after ``carbs_scale`` (fat and protein are not scaled).
    """
    from glucosim.parameters import load_parameter_table
    from glucosim.physiology.body import meals_energy_kcal
    from glucosim.physiology.indices import Par
    from glucosim.physiology.units import MINUTES_PER_DAY

    emptying_kcal_min = float(parameters[Par.gastric_energy_emptying_max])
    capacity_kcal_day = emptying_kcal_min * MINUTES_PER_DAY
    for part, meals, scale, gave_meals in scenario.meal_phases():
        energy_kcal = meals_energy_kcal(meals, scale, parameters)
        # name what this part changed: a change that only scales the carbohydrate is named by its carbs_scale
        where = f"{part}.meals" if gave_meals else f"{part}.carbs_scale"
        if energy_kcal >= capacity_kcal_day:
            row = load_parameter_table()["gastric_energy_emptying_max"]
            return (
                f"{where}: the meals hold {energy_kcal:.0f} kcal a day (carbohydrate after carbs_scale {scale:g}, "
                f"fat and protein), at least what this subject's stomach can empty in a day "
                f"(gastric_energy_emptying_max {emptying_kcal_min:g} kcal/min x {MINUTES_PER_DAY:g} min = "
                f"{capacity_kcal_day:.0f} kcal): the rest would pile up in the stomach day after day; allowed: meals "
                f"of less than {capacity_kcal_day:.0f} kcal a day (energy eaten outside meals, "
                f"other_food_kcal_per_day, does not pass the modelled stomach), or a faster emptying "
                f"(gastric_energy_emptying_max, range [{row.low:g}, {row.high:g}] kcal/min)"
            )
    return None


def _log_drift_range(scenario: Scenario, log_rate_per_year) -> tuple[float, float, float]:
    """(lowest, highest, final) accumulated log-drift over the run, ``log_rate_per_year(drift)`` giving each phase's
    rate: the drift in force is the routine's, then each change's that sets one. The drift is piecewise linear in
    log space, so its extremes are at the phase boundaries."""
    from glucosim.physiology.units import DAYS_PER_YEAR

    boundaries = [(change.start_day, change.drift) for change in scenario.changes]
    drift, log_drift, lowest, highest, day = scenario.routine.drift, 0.0, 0.0, 0.0, 0
    for next_day, next_drift in [*boundaries, (scenario.n_days, None)]:
        log_drift += log_rate_per_year(drift) * (next_day - day) / DAYS_PER_YEAR
        lowest, highest = min(lowest, log_drift), max(highest, log_drift)
        day, drift = next_day, (next_drift if next_drift is not None else drift)
    return lowest, highest, log_drift


def combined_sensitivity_problem(scenario: Scenario, parameters) -> str | None:
    """Why the subject's combined insulin sensitivity leaves the table's range during the run, or None.

    Each tissue acts with whole-body x tissue factor x the drift accumulated so far (every phase of the
    routine and its changes). Factors that are each within range can multiply to nonsense (0.05^2 = 0.0025
    gave a fasting glucose of 27,000 mg/dl), so the product must lie in the range of
    ``insulin_sensitivity_whole_body`` too, at every point of the run. The drift is piecewise linear in log
    space, so its extremes are at the phase boundaries. Acute and dynamic effects (sleep, exercise,
    hyperinsulinaemia, weight) are left to the plausibility check of the result.
    """
    import math

    from glucosim.parameters import load_parameter_table
    from glucosim.physiology.indices import Par

    row = load_parameter_table()["insulin_sensitivity_whole_body"]
    whole = float(parameters[Par.insulin_sensitivity_whole_body])
    for tissue in SENSITIVITY_TISSUES:
        start = whole * float(parameters[Par[f"insulin_sensitivity_{tissue}"]])
        lowest, highest, _ = _log_drift_range(
            scenario,
            lambda drift, tissue=tissue: (
                math.log1p(drift.whole_body_per_year) + math.log1p(getattr(drift, f"{tissue}_per_year"))
            ),
        )
        for value, when, outside in (
            (start * math.exp(lowest), "lowest", start * math.exp(lowest) < row.low),
            (start * math.exp(highest), "highest", start * math.exp(highest) > row.high),
        ):
            if outside:
                return (
                    f"combined {tissue} insulin sensitivity (whole body {whole:g} x {tissue} "
                    f"{start / whole:g} x drift over the run) reaches {value:.3g} at its {when}, outside the "
                    f"table's range [{row.low:g}, {row.high:g}] (a subject the model cannot represent)"
                )
    return None


def reserve_drift_problem(scenario: Scenario, parameters) -> str | None:
    """Why the beta cells' reserve, drifted down by routine.drift.beta_reserve_per_year (and the changes' drifts),
    falls below the floors of function or mass during the run, or None.

    The floors (beta_function_floor, beta_mass_floor) are the basal function and mass that even a full glucotoxic
    load leaves; a reserve below them would take the cells under what the model's failure can reach (toward no
    secretion at all), a subject it was not built to represent. The drift only lowers the reserve, so the run's end
    is its lowest point.
    """
    import math

    from glucosim.physiology.indices import Par

    _, _, log_reserve = _log_drift_range(scenario, lambda drift: math.log1p(drift.beta_reserve_per_year))
    for cap, floor in (("beta_function_max", "beta_function_floor"), ("beta_mass_max", "beta_mass_floor")):
        start, lowest = float(parameters[Par[cap]]), float(parameters[Par[floor]])
        end = start * math.exp(log_reserve)
        if end < lowest:
            return (
                f"beta_reserve_per_year takes {cap} from {start:g} to {end:.3g} by the run's end, below {floor} "
                f"({lowest:g}, what a full glucotoxic load leaves); allowed: a decline that keeps the reserve above it "
                f"(a slower beta_reserve_per_year, a shorter run, or a higher reserve)"
            )
    return None
