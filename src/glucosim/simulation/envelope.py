"""Envelope following: long runs of a repeating routine in multi-day steps.

When the routine repeats with a period P (a day, or a week when exercise
falls on some weekdays only), the midnight states of successive periods lie
on a smooth curve, the envelope, that only the slow states (beta-cell mass
and function, sensitivity drift, training, weight: the states the model
freezes when ``slow_dynamics_on`` is 0) move along noticeably; the fast
states are slaved to them within hours. Following Petzold (1981, SIAM J Sci
Stat Comput 2:24) and the projective integration of Gear & Kevrekidis
(2003, SIAM J Sci Comput 24:1091), each envelope step

1. simulates one period at full resolution from the current midnight state
   (these are ordinary, *simulated* rows of the daily table), which gives the
   slow states' mean slope g over the period;
2. extrapolates the slow states from the end of that period to the end of
   the step, H days after its start, with the slope taken as linear in time
   through this period's and the previous period's slopes (second order, an
   Adams-Bashforth-type step on the envelope); the fast states start the
   next step as they ended the simulated period, where they already sit on
   the fast manifold of nearly the same slow states;
3. chooses H from the error estimate: the difference between the linear and
   the constant-slope extrapolation, ``|s| H (H - P) / 2`` with ``s`` the
   change of slope per day, kept within ``atol + rtol |y|`` for every slow
   state (so a step of one period, H = P, is exact full resolution).

Steps are whole periods and land exactly on every landmark the caller gives
(changes of routine, clinic visits, kept trajectory days, the end of the run);
the last stretch before a landmark that is too short for a step is simulated
in full. When a daily marker crosses one of the ADA thresholds between two
simulated periods more than ``crossing_periods`` apart, the step is rejected
and the run is refined there: it lands one period before the crossing
estimated by interpolation and simulates a few periods around it in full.

Rows of the daily table between simulated periods are interpolated linearly
between the simulated rows of the same phase of the period (same weekday for
a weekly routine) and flagged in the boolean ``interpolated`` column.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from glucosim.analysis import markers
from glucosim.physiology.indices import FIRST_QUADRATURE, Drv
from glucosim.physiology.units import DAYS_PER_YEAR

WEEK_DAYS = 7
SETTLE_CONTRACTION = 0.5
"""The settling correction assumes at most this contraction per period: states relaxing over many periods
(liver glycogen) are not extrapolated along the secant nor over-corrected, they settle as they go."""
CROSSING_COLUMNS = tuple(sorted({column for column, _ in markers.CROSSINGS.values() if column != "hba1c_percent"}))
"""Daily columns whose threshold crossings are refined (HbA1c is a 90-day trailing mean of the daily mean
glucose, computed afterwards from the daily table, so its crossing is as accurate as those rows)."""


@dataclass(frozen=True)
class EnvelopeSettings:
    """Error control and step limits of envelope following.

    Attributes:
        rtol: relative local error allowed per envelope step on each slow state.
        atol: absolute local error per step, in the slow states' units (relative units for beta cells and
            sensitivity, kg for weight).
        max_step_days: longest envelope step.
        growth: largest factor by which a step may grow over the previous one.
        safety: the step is this fraction of the one the error estimate allows.
        crossing_periods: a threshold crossing between simulated periods further apart than this many
            periods is refined.
        refine_periods: periods simulated in full around a refined crossing.
        order: 2 or 3, the order of the Adams-type extrapolation (2 has the larger stability interval).
        settle: simulate one settling period after each extrapolation and correct the fast states to
            their periodic orbit before the measured period (see ``follow_envelope``).
    """

    rtol: float = 2e-3
    atol: float = 2e-4
    max_step_days: int = 120
    growth: float = 2.0
    safety: float = 0.8
    crossing_periods: int = 4
    refine_periods: int = 3
    settle: bool = True
    order: int = 3


@dataclass
class EnvelopeStats:
    """What envelope following did: steps taken and rejected, days simulated at full resolution."""

    steps: int = 0
    rejected_steps: int = 0
    simulated_days: int = 0

    def as_dict(self) -> dict[str, int]:
        return {
            "envelope_steps": self.steps,
            "envelope_rejected_steps": self.rejected_steps,
            "simulated_days": self.simulated_days,
        }


def slow_state_mask(rhs, y: np.ndarray, p: np.ndarray, n_drivers: int) -> np.ndarray:
    """States the model freezes when ``slow_dynamics_on`` is 0: the states the envelope extrapolates.

    Found by evaluating ``rhs`` at ``y`` with every driver set to 1 (so drift and exercise terms are on),
    once with slow dynamics on and once off: a slow state's derivative is nonzero only with them on.
    """
    drv = np.ones(n_drivers)
    y = y * 1.1 + 0.01  # away from zero, so a state's own decay term shows
    on = np.empty_like(y)
    off = np.empty_like(y)
    rhs(0.0, y, drv, p, on)
    drv[Drv.slow_dynamics_on] = 0.0
    rhs(0.0, y, drv, p, off)
    slow = (off == 0.0) & (on != off)
    slow[FIRST_QUADRATURE:] = False
    return slow


def relaxation_rates(jacobian_diagonal, y: np.ndarray, drv: np.ndarray, p: np.ndarray) -> np.ndarray:
    """How fast each state relaxes on its own, 1/day: the diagonal of the right-hand side's Jacobian at ``y``
    (``jacobian_diagonal(y, drv, p)``, per minute; the organ model's is ``organ.organ_jacobian_diagonal()``),
    capped at 0 (no state is taken to grow by itself)."""
    from glucosim.physiology.units import MINUTES_PER_DAY

    return np.minimum(jacobian_diagonal(y, drv, p), 0.0) * MINUTES_PER_DAY


def routine_period(program, day: int, until: int) -> int | None:
    """Days after which the routine repeats from ``day`` on (up to ``until``): 1, 7, or None if neither."""
    span = min(until - day, 2 * WEEK_DAYS)
    plans = [program.day_plan(day + k) for k in range(span)]
    if all(plan == plans[0] for plan in plans):
        return 1
    if all(plans[k] == plans[k - WEEK_DAYS] for k in range(WEEK_DAYS, span)):
        return WEEK_DAYS
    return None


class _Table:
    """The daily table being filled: simulated rows as they come, interpolated rows at the end."""

    def __init__(self, n_days: int):
        self.n_days = n_days
        self.columns: dict[str, np.ndarray] = {}
        self.simulated = np.zeros(n_days, dtype=bool)

    def put(self, first_day: int, rows: dict) -> None:
        for name, values in rows.items():
            if name not in self.columns:
                values = np.asarray(values)
                empty = np.nan if values.dtype.kind == "f" else 0
                self.columns[name] = np.full(self.n_days, empty, dtype=values.dtype)
            self.columns[name][first_day : first_day + len(values)] = values
        n = len(next(iter(rows.values())))
        self.simulated[first_day : first_day + n] = True

    def forget(self, first_day: int, n: int) -> None:
        self.simulated[first_day : first_day + n] = False

    def crossing(self, start: int, step: int, period: int) -> float | None:
        """Interpolated day of the first threshold crossing between the simulated periods at ``start`` and
        ``start + step``, or None."""
        found = math.inf
        for column in CROSSING_COLUMNS:
            values = self.columns[column]
            for threshold in {t for c, t in markers.CROSSINGS.values() if c == column}:
                for phase in range(period):
                    a, b = values[start + phase], values[start + step + phase]
                    if np.isfinite(a) and np.isfinite(b) and (a >= threshold) != (b >= threshold):
                        fraction = (threshold - a) / (b - a)
                        found = min(found, start + phase + fraction * step)
        return None if math.isinf(found) else found

    def interpolate(self, start: int, step: int, period: int) -> None:
        """Fill rows between the simulated periods at ``start`` and ``start + step`` (same phase, linear)."""
        days = np.arange(start + period, start + step)
        phase = (days - start) % period
        before = start + phase
        after = np.minimum(before + step, self.n_days - 1)
        fraction = (days - before) / step
        for name, values in self.columns.items():
            if name == "day":  # the row's own day number, not a neighbour's
                values[days] = days
                continue
            if values.dtype.kind == "f":
                values[days] = values[before] + fraction * (values[after] - values[before])
            else:
                values[days] = values[before]


def _choose_step(history, period: int, longest: int, y_slow: np.ndarray, settings: EnvelopeSettings):
    """The envelope step (days, a multiple of ``period``) and the slow states' increment past the simulated period.

    The slope over a simulated period is its mean, i.e. the envelope's slope at the period's midpoint.
    Through the last (up to three) midpoint slopes runs a polynomial in time (Newton form, nodes t_n,
    t_n-1, t_n-2); its integral from the end of the current period to the end of the step is the
    increment (an Adams-Bashforth step of order 3, or 2 with two slopes). The last Newton term estimates
    the error; the step is the longest whose estimate stays within ``tolerance * H / 1 year`` (error per
    unit step, so the error of a whole run scales with its length, not with its number of steps).
    """
    day, slope, _ = history[-1]
    if len(history) < 2 or longest <= period:
        return period, np.zeros_like(slope)
    steps = np.arange(2, longest // period + 1) * period
    u0, u1 = period / 2.0, steps - period / 2.0  # integration limits in time from the current midpoint
    gap1 = day - history[-2][0]
    a1 = (slope - history[-2][1]) / gap1
    terms = [np.outer(steps - period, slope), np.outer((u1**2 - u0**2) / 2.0, a1)]
    if len(history) == 3:
        gap2 = history[-2][0] - history[-3][0]
        a2 = (a1 - (history[-2][1] - history[-3][1]) / gap2) / (gap1 + gap2)
        terms.append(np.outer((u1**3 - u0**3) / 3.0 + gap1 * (u1**2 - u0**2) / 2.0, a2))
    tolerance = np.outer(steps / DAYS_PER_YEAR, settings.atol + settings.rtol * np.abs(y_slow))
    within = np.max(np.abs(terms[-1]) / tolerance, axis=1) <= settings.safety
    allowed = np.argmin(within) if not within.all() else len(steps)  # first failing candidate
    if allowed == 0:
        return period, np.zeros_like(slope)
    return int(steps[allowed - 1]), sum(term[allowed - 1] for term in terms)


def _midnight_states(stepper, pending, n_days: int) -> None:
    """Keep the requested midnight states: simulated ones as they are, the others interpolated like the rows."""
    simulated = stepper.midnight_states
    kept = {day: simulated[day] for day in stepper.state_days if day in simulated}
    for start, step, period in pending:
        for day in range(start + period, start + step):
            if day in stepper.state_days:
                before = start + (day - start) % period
                after = before + step
                fraction = (day - before) / step
                kept[day] = simulated[before] + fraction * (simulated[after] - simulated[before])
    stepper.midnight_states = kept


def follow_envelope(
    stepper,
    y: np.ndarray,
    n_days: int,
    landmarks,
    slow: np.ndarray,
    relaxation: np.ndarray,
    settings: EnvelopeSettings | None = None,
    progress=None,
) -> tuple[dict, np.ndarray, EnvelopeStats]:
    """Run days 0 .. ``n_days - 1`` from midnight state ``y`` by envelope following.

    Args:
        stepper: integrates whole days at full resolution (``simulation.run.DayStepper``).
        y: state at midnight of day 0.
        n_days: days to run.
        landmarks: days a step must land on (clinic visits, kept days; changes of routine always are).
        slow: boolean mask of the states to extrapolate (``slow_state_mask``).
        relaxation: each state's own relaxation rate, 1/day (``relaxation_rates``).
        settings: error control (default ``EnvelopeSettings()``).
        progress: called with the day reached after each step, if given.

    Returns:
        (daily-table columns including ``interpolated``, state at the end, what the envelope did).
    """
    settings = settings or EnvelopeSettings()
    fast = ~slow
    fast[FIRST_QUADRATURE:] = False
    table = _Table(n_days)
    stats = EnvelopeStats()
    program = stepper.program
    changes = sorted({day for day, _ in program.change_days if 0 < day < n_days})
    stops = sorted({int(day) for day in landmarks if 0 < day < n_days} | set(changes) | {n_days})
    refine_zones: list[tuple[int, int]] = []
    pending: list[tuple[int, int, int]] = []  # (start, step, period) whose rows are interpolated at the end
    history: list = []  # (day, slow slope per day, end state) of the last simulated periods of this routine
    last_step = None
    periods: dict[int, int | None] = {}
    current = None  # (day, state at its end, slope, period) of a period simulated ahead
    day = 0

    while day < n_days:
        stop = next(s for s in stops if s > day)
        zone = next((z for z in refine_zones if z[0] <= day < z[1]), None)
        following = [z[0] for z in refine_zones if z[0] > day]
        if following:
            stop = min(stop, min(following))
        next_change = next((c for c in changes if c > day), n_days)
        if next_change not in periods:  # the routine's period, found once per stretch between changes
            periods[next_change] = routine_period(program, day, next_change)
        period = periods[next_change]
        if current is not None and current[0] == day and (period is None or stop - day < 2 * period or zone):
            # the landing period is simulated already: take it before simulating on in full
            _, y, _, simulated_period = current
            day += simulated_period
            current = None
            continue
        if period is None or stop - day < 2 * period or zone is not None:
            # too short for a step (or refining a crossing): simulate in full up to the stop
            length = stop - day if zone is None else min(stop, zone[1]) - day
            rows, y = stepper.run(y, day, length)
            table.put(day, rows)
            day += length
            if progress is not None:
                progress(day)
            continue

        if current is not None and current[0] == day:
            _, y_end, slope, _ = current
        else:
            y_start = y.copy()
            rows, y_end = stepper.run(y, day, period)
            table.put(day, rows)
            slope = (y_end[slow] - y_start[slow]) / period
        current = None
        # land on the stop; the last period before the end of the run is simulated
        # the last period before a change of routine (or the end) is simulated: rows are never interpolated
        # from a period under another routine
        room = min(stop - (period if stop in changes else 0), n_days - period) - day
        longest = min((room // period) * period, settings.max_step_days, int(settings.growth * (last_step or 0)))
        if history and any(history[-1][0] < c <= day for c in changes):
            history = []  # the slopes before a change of routine say nothing about the ones after
        history = (history + [(day, slope, y_end)])[-settings.order :]
        step, increment = _choose_step(history, period, longest, y_end[slow], settings)
        before = history[-2] if len(history) > 1 else None
        if step <= period:
            y, day, last_step = y_end, day + period, period
            stats.steps += 1
            if progress is not None:
                progress(day)
            continue

        assert before is not None  # a step longer than one period is chosen only from two measured periods
        y_next = y_end.copy()
        y_next[slow] += increment
        # the other states follow the envelope too (the running means lag glucose by about a day): move them
        # along the secant of the two last simulated periods' end states, so they start the next period
        # consistent with the slow states instead of stale by the whole step
        moved = y_end[fast] + (step - period) * (y_end[fast] - before[2][fast]) / (day - before[0])
        # a state that relaxes over many periods (liver glycogen) would amplify its own lag along the secant:
        # it keeps its end-of-period value
        moved = np.where(np.exp(period * relaxation[fast]) < SETTLE_CONTRACTION, moved, y_end[fast])
        # a state near zero at midnight (food left in the gut, exercise after-effects) is never moved past it
        y_next[fast] = np.where(moved * y_end[fast] < 0.0, y_end[fast], moved)
        landing = day + step
        stepper.skip_to(landing)
        if settings.settle:
            # Settling pass: the slow states' rates are very sensitive to the running means (0.1 mg/dl of
            # mean glucose moves the beta-cell mass rate by tens of percent), which a day of simulation
            # only pulls 63 % of the way to consistency. One period from the extrapolated state tells how
            # far each fast state is off its periodic orbit, assuming it relaxes like exp(J_ii t); the
            # measured period then starts from the corrected state.
            _, y_settled = stepper.run(y_next, landing, period)
            shift = period * (y_end[fast] - before[2][fast]) / (day - before[0])
            contraction = np.minimum(np.exp(period * relaxation[fast]), SETTLE_CONTRACTION)
            corrected = y_next[fast] + (y_settled[fast] - shift - y_next[fast]) / (1.0 - contraction)
            y_next[fast] = np.where(corrected * y_next[fast] < 0.0, y_next[fast], corrected)
            stepper.skip_to(landing)
        rows, y_after = stepper.run(y_next, landing, period)
        table.put(landing, rows)
        crossing = table.crossing(day, step, period)
        if crossing is not None and step > settings.crossing_periods * period:
            # refine: go back to the end of the simulated period and land one period before the crossing
            stats.rejected_steps += 1
            table.forget(landing, period)
            refine_start = day + period * max(1, int((crossing - day) // period) - 1)
            refine_zones.append((refine_start, refine_start + settings.refine_periods * period))
            y, day, last_step = y_end, day + period, period
            stepper.skip_to(day)
            continue
        stats.steps += 1
        pending.append((day, step, period))
        # the landing period is simulated already: the next step starts from it
        current = (landing, y_after, (y_after[slow] - y_next[slow]) / period, period)
        last_step = step
        y, day = y_next, landing
        if progress is not None:
            progress(day)

    for start, step, period in pending:
        table.interpolate(start, step, period)
    _midnight_states(stepper, pending, n_days)
    columns = dict(table.columns)
    columns["interpolated"] = ~table.simulated
    stats.simulated_days = stepper.simulated_days
    return columns, y, stats
