"""Compile a scenario into the solver's schedule, a chunk of days at a time.

Every day is cut into segments at midnight, at each meal and at each exercise
start and end; drivers are constant within a segment and a meal enters as a
jump of glucose into the stomach. Sample times for the daily markers (fasting,
2 h after the first meal) are computed here too, since they depend on the routine.
"""

import math
from dataclasses import dataclass
from functools import cached_property

import numpy as np

from glucosim.errors import ScenarioError
from glucosim.physiology._jit import as_python
from glucosim.physiology.body import balance_intake_kcal_day, meals_energy_kcal
from glucosim.physiology.gut import meal_event
from glucosim.physiology.indices import N_DRIVERS, N_STATES, Drv, Par
from glucosim.physiology.units import (
    DAYS_PER_YEAR,
    HOURS_PER_DAY,
    MINUTES_PER_DAY,
    MINUTES_PER_HOUR,
    grams_to_mg_per_kg,
)
from glucosim.scenario.load import LoadedScenario
from glucosim.scenario.schema import Routine
from glucosim.solver import Schedule

OUTPUT_STEP_MIN = 5.0
"""Spacing of the stored trajectory grid, minutes."""
POSTMEAL_SAMPLE_MIN = 120.0
"""The 2-h post-meal sample is taken this long after the first meal of the day."""
DEFAULT_FASTING_SAMPLE_H = 7.0
"""Fasting sample time on days without meals, hours after midnight."""


@dataclass(frozen=True)
class DayPlan:
    """The routine of one day, resolved to minutes from the day's midnight."""

    meals: tuple  # of (minute, dose_mg_kg, absorption_speed)
    meal_composition: tuple  # per meal, same order: (fat g per carb g, protein g per carb g)
    exercise: tuple  # of (start_minute, end_minute, intensity_above_rest_pct, resistance 0/1)
    sleep_deficit_h: float
    drift_per_day: tuple  # (liver, muscle, adipose) log-rate per day
    reserve_drift_per_day: float  # log-rate per day of the beta cells' reserve (routine.drift.beta_reserve_per_year)
    energy_surplus_kcal_day: float
    food_energy_kcal_day: float
    carbohydrate_g_day: float
    daily_steps: float
    cortisol_rel: float
    clock_shift_h: float = 0.0
    circadian_misalignment: float = 0.0

    @property
    def fasting_sample_min(self) -> float:
        """Minute of the fasting sample: just before the first meal."""
        return self.meals[0][0] if self.meals else DEFAULT_FASTING_SAMPLE_H * MINUTES_PER_HOUR

    @property
    def postmeal_sample_min(self) -> float:
        """Minute of the 2-h post-meal sample (NaN if there is no meal or it falls after midnight)."""
        if not self.meals or self.meals[0][0] + POSTMEAL_SAMPLE_MIN >= MINUTES_PER_DAY:
            return math.nan
        return self.meals[0][0] + POSTMEAL_SAMPLE_MIN


ALIGNED_SLEEP_MIDPOINT_H = 3.0
"""Middle of sleep of a day-worker whose clock is set by daylight (23:00-07:00); misalignment is measured from it."""


def circadian_misalignment(routine: Routine) -> float:
    """How far sleep is out of phase with the body clock: 0 aligned, 1 twelve hours off."""
    gap = (routine.sleep_midpoint_h - ALIGNED_SLEEP_MIDPOINT_H - routine.clock_shift_h) % HOURS_PER_DAY
    return min(gap, HOURS_PER_DAY - gap) / (HOURS_PER_DAY / 2.0)


def _meal_composition(meal, carbs_scale: float) -> tuple[float, float]:
    carbs_g = meal.carbs_g * carbs_scale
    return meal.fat_g / carbs_g, meal.protein_g / carbs_g


def _log_rate_per_day(fraction_per_year: float) -> float:
    return math.log1p(fraction_per_year) / DAYS_PER_YEAR


def absorption_speed(absorption, p) -> float:
    if absorption == "slow":
        return float(p[Par.absorption_speed_slow])
    if absorption == "fast":
        return float(p[Par.absorption_speed_fast])
    if absorption == "medium":
        return 1.0
    return float(absorption)


def _check_exercise_overlap(routine: Routine, where: str) -> None:
    """Refuse sessions that overlap on a weekday (the schedule gives one exercise intensity at a time)."""
    for weekday in range(7):
        sessions = sorted(
            (session.start_h, session.start_h + session.duration_min / MINUTES_PER_HOUR)
            for session in routine.exercise
            if weekday in session.weekdays
        )
        for (start, end), (next_start, next_end) in zip(sessions, sessions[1:]):
            if next_start < end:
                raise ScenarioError(
                    f"{where}: sessions overlap on weekday {weekday} ({start:g}-{end:g} h and "
                    f"{next_start:g}-{next_end:g} h); sessions on one weekday must not overlap"
                )


def _check_exercise_above_rest(routine: Routine, where: str, p) -> None:
    """Refuse sessions at or below resting oxygen uptake: they would do nothing (the model's input is the intensity
    above rest), which is what a fraction given for a percentage (0.6 for 60 % VO2max) silently produced."""
    rest = float(p[Par.resting_intensity])
    for index, session in enumerate(routine.exercise):
        if session.intensity_pct_vo2max <= rest:
            raise ScenarioError(
                f"{where}[{index}].intensity_pct_vo2max: {session.intensity_pct_vo2max:g} % VO2max is at or below "
                f"rest ({rest:g} %, resting_intensity), so the session would do nothing; allowed: above {rest:g} up "
                f"to 100 (a percentage: 60, not 0.6)"
            )


class ScenarioProgram:
    """A scenario resolved day by day: routines, drivers, schedules and sample times."""

    def __init__(self, loaded: LoadedScenario):
        self.loaded = loaded
        self.scenario = loaded.scenario
        self.parameters = loaded.parameters
        self.n_days = self.scenario.n_days
        self.end_min = self.scenario.duration_min
        self._phases = self._resolve_phases()
        self.balance_other_food_kcal_day = self._balance_other_food(self._phases[0][1])
        self._plans: dict[tuple[int, int], DayPlan] = {}

    def _resolve_phases(self) -> list[tuple[int, Routine]]:
        routine = self.scenario.routine
        _check_exercise_overlap(routine, f"{self.loaded.source}: routine.exercise")
        _check_exercise_above_rest(routine, f"{self.loaded.source}: routine.exercise", self.parameters)
        phases = [(0, routine)]
        for index, change in enumerate(self.scenario.changes):
            updates = {
                name: getattr(change, name)
                for name in (
                    "meals",
                    "exercise",
                    "sleep_h",
                    "sleep_midpoint_h",
                    "clock_shift_h",
                    "carbs_scale",
                    "energy_surplus_kcal_per_day",
                    "other_food_kcal_per_day",
                    "cortisol_rel",
                    "daily_steps",
                    "drift",
                )
                if getattr(change, name) is not None
            }
            routine = routine.model_copy(update=updates)
            if change.exercise is not None:
                _check_exercise_overlap(routine, f"{self.loaded.source}: changes[{index}].exercise")
                _check_exercise_above_rest(routine, f"{self.loaded.source}: changes[{index}].exercise", self.parameters)
            if phases[-1][0] == change.start_day:
                phases[-1] = (change.start_day, routine)
            else:
                phases.append((change.start_day, routine))
        return phases

    @cached_property
    def change_days(self) -> list[tuple[int, str]]:
        """(start day, label) of each scheduled change, for plots and summaries."""
        return [(change.start_day, change.label) for change in self.scenario.changes]

    def routine_on(self, day: int) -> Routine:
        """The routine in force on ``day`` (0-based)."""
        return self._phases[self._phase_index(day)][1]

    def _phase_index(self, day: int) -> int:
        index = 0
        for k, (start, _) in enumerate(self._phases):
            if start <= day:
                index = k
        return index

    def plan_key(self, day: int) -> tuple[int, int]:
        """What ``day_plan(day)`` depends on: the routine in force (its phase) and the weekday. Days with the
        same key have the same plan (long runs and envelope following reuse plans and schedules by it)."""
        return self._phase_index(day), day % 7

    def _meals_energy_kcal(self, routine: Routine) -> float:
        return meals_energy_kcal(routine.meals, routine.carbs_scale, self.parameters)

    def _balance_other_food(self, routine: Routine) -> float:
        """The rest of the diet that puts the subject at energy balance on the starting routine, kcal/day.

        Balance is PAL x resting expenditure (body.balance_intake_kcal_day): everyday life without the
        exercise sessions, which spend energy on top. Meals that already carry more energy leave nothing.
        """
        # as plain Python: compiling the kernel would cost each sweep worker ~1 s of CPU at start
        balance_kcal_day = float(as_python(balance_intake_kcal_day)(self.parameters))
        return max(balance_kcal_day - self._meals_energy_kcal(routine), 0.0)

    def food_energy_kcal_day(self, routine: Routine) -> float:
        """Energy eaten on a day of ``routine``: meals plus the rest of the diet (nothing on a day without meals)."""
        if not routine.meals:
            return 0.0
        other = routine.other_food_kcal_per_day
        if other == "balance":
            other = self.balance_other_food_kcal_day
        return self._meals_energy_kcal(routine) + other

    def day_plan(self, day: int) -> DayPlan:
        """The routine of ``day`` in the kernel's units (made once per ``plan_key``)."""
        key = self.plan_key(day)
        plan = self._plans.get(key)
        if plan is None:
            plan = self._plans[key] = self._make_day_plan(day)
        return plan

    def _make_day_plan(self, day: int) -> DayPlan:
        routine = self.routine_on(day)
        p = self.parameters
        body_weight = float(p[Par.body_weight])
        ordered = sorted(routine.meals, key=lambda meal: meal.time_h)
        meals = tuple(
            (
                meal.time_h * MINUTES_PER_HOUR,
                grams_to_mg_per_kg(meal.carbs_g * routine.carbs_scale, body_weight),
                absorption_speed(meal.absorption, p),
            )
            for meal in ordered
        )
        composition = tuple(_meal_composition(meal, routine.carbs_scale) for meal in ordered)
        weekday = day % 7
        rest = float(p[Par.resting_intensity])
        exercise = tuple(
            sorted(
                (
                    session.start_h * MINUTES_PER_HOUR,
                    session.start_h * MINUTES_PER_HOUR + session.duration_min,
                    max(session.intensity_pct_vo2max - rest, 0.0),
                    1.0 if session.kind == "resistance" else 0.0,
                )
                for session in routine.exercise
                if weekday in session.weekdays
            )
        )
        drift = routine.drift
        return DayPlan(
            meals=meals,
            meal_composition=composition,
            exercise=exercise,
            sleep_deficit_h=max(float(p[Par.sleep_need]) - routine.sleep_h, 0.0),
            drift_per_day=tuple(
                _log_rate_per_day(drift.whole_body_per_year) + _log_rate_per_day(tissue)
                for tissue in (drift.liver_per_year, drift.muscle_per_year, drift.adipose_per_year)
            ),
            reserve_drift_per_day=_log_rate_per_day(drift.beta_reserve_per_year),
            energy_surplus_kcal_day=routine.energy_surplus_kcal_per_day,
            food_energy_kcal_day=self.food_energy_kcal_day(routine),
            carbohydrate_g_day=sum(meal.carbs_g for meal in routine.meals) * routine.carbs_scale,
            daily_steps=float(p[Par.steps_reference]) if routine.daily_steps is None else routine.daily_steps,
            cortisol_rel=routine.cortisol_rel,
            clock_shift_h=routine.clock_shift_h,
            circadian_misalignment=circadian_misalignment(routine),
        )

    def schedule(
        self,
        first_day: int,
        n_days: int,
        slow_dynamics: bool = True,
        day_offset: int | None = None,
    ) -> Schedule:
        """Schedule of days ``first_day`` .. ``first_day + n_days - 1``.

        ``day_offset`` places the schedule at another time than the plan's day
        (used for warm-up days before day 0). A meal is an event (jump and
        reset, physiology.gut.meal_event); everything about the food in the gut
        is a state, so nothing carries over from the days before.
        """
        t0, drivers, jumps, resets = [], [], [], []
        no_jump, no_reset = np.zeros(N_STATES), np.zeros(N_STATES, dtype=np.bool_)
        offset = first_day if day_offset is None else day_offset
        for k in range(n_days):
            plan = self.day_plan(first_day + k)
            midnight = (offset + k) * MINUTES_PER_DAY
            events = {0.0: None}
            for minute, _dose, _speed in plan.meals:
                events[minute] = None
            for start, end, _, _ in plan.exercise:
                events[start] = None
                events[min(end, MINUTES_PER_DAY)] = None
            events.pop(MINUTES_PER_DAY, None)
            meals_at = {
                minute: (meal_dose, meal_speed, meal_composition)
                for (minute, meal_dose, meal_speed), meal_composition in zip(plan.meals, plan.meal_composition)
            }
            for minute in sorted(events):
                jump, reset = no_jump, no_reset
                if minute in meals_at:
                    dose, speed, (fat_per_carb, protein_per_carb) = meals_at[minute]
                    jump, reset = meal_event(N_STATES, dose, speed, fat_per_carb, protein_per_carb)
                intensity, resistance = next(
                    ((u, kind) for start, end, u, kind in plan.exercise if start <= minute < end), (0.0, 0.0)
                )
                drv = np.zeros(N_DRIVERS)
                drv[Drv.exercise_intensity_pct] = intensity
                drv[Drv.resistance_exercise] = resistance
                drv[Drv.daily_steps] = plan.daily_steps
                drv[Drv.sleep_deficit_h] = plan.sleep_deficit_h
                drv[Drv.drift_liver_per_day], drv[Drv.drift_muscle_per_day], drv[Drv.drift_adipose_per_day] = (
                    plan.drift_per_day
                )
                drv[Drv.drift_reserve_per_day] = plan.reserve_drift_per_day
                drv[Drv.energy_surplus_kcal_day] = plan.energy_surplus_kcal_day
                drv[Drv.food_energy_kcal_day] = plan.food_energy_kcal_day
                drv[Drv.carbohydrate_g_day] = plan.carbohydrate_g_day
                drv[Drv.cortisol_rel] = plan.cortisol_rel
                drv[Drv.clock_shift_h] = plan.clock_shift_h
                drv[Drv.circadian_misalignment] = plan.circadian_misalignment
                drv[Drv.slow_dynamics_on] = 1.0 if slow_dynamics else 0.0
                t0.append(midnight + minute)
                drivers.append(drv)
                jumps.append(jump)
                resets.append(reset)
        t0 = np.array(t0)
        end = (offset + n_days) * MINUTES_PER_DAY
        if day_offset is None:
            end = min(end, self.end_min)
            keep = t0 < end
            t0, drivers, jumps, resets = (
                t0[keep],
                [d for d, k in zip(drivers, keep) if k],
                [j for j, k in zip(jumps, keep) if k],
                [r for r, k in zip(resets, keep) if k],
            )
        t1 = np.append(t0[1:], end)
        return Schedule(
            t0, t1, np.array(drivers), np.array(jumps), np.array(resets, dtype=np.bool_).reshape(-1, N_STATES)
        )
