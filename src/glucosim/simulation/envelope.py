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
   slow states' mean slope over the period;
2. extrapolates the slow states from the end of that period to the end of
   the step, H days after its start: an Adams-Bashforth step of order 3 on
   the last three periods' slopes, made exponential (Hochbruck & Ostermann
   2010) for the slow states that relax by themselves towards a moving target
   (liver fat, activity, training, adaptive thermogenesis, weight: their own
   relaxation, the diagonal of the model's Jacobian averaged over the period,
   is integrated exactly, so time constants of days to weeks no longer cap
   the step by stability). The beta cells sit inside the glucose loop, whose
   envelope their own relaxation does not describe: they are extrapolated
   explicitly, with the step kept inside the method's stability interval for
   their relaxation, unless that relaxation would hold the step below its cap
   (function held at its reserve's sharp ceiling through prediabetes relaxes
   onto it at 0.03-0.06/day): then it too is integrated exponentially, with
   the loop's tolerance (``EnvelopeSettings.stiff_loop_exponential``). The
   other states move along the secant of the last two simulated periods;
3. chooses H from the error estimate (the last Newton term of the
   extrapolation), kept within ``(atol + rtol |y|) H / 1 year`` for every
   slow state (so a step of one period, H = P, is exact full resolution;
   an exponentially integrated state forgets its errors, so its share is
   ``min(1, |rate| H)`` if larger: ``error_horizon``), and checks it after
   landing: the landing period's measured slope against the extrapolated
   one gives the step's actual error (``measured_error``). A step whose
   measured error exceeds the tolerance is redone shorter from the same
   period, and the next step grows or shrinks with the measured error
   (step x safety x ratio^(-1/3), at most ``growth``);
4. for a daily routine, simulates the landing day straight from the extrapolated
   state and takes out of its slopes the part owed to the fast states' start
   off their periodic orbit (the running means lag by a day, and the beta
   cells' rates are very sensitive to them): that start's offset follows from
   how far the day's end misses the orbit, its effect from the right-hand side
   resampled along the day without it (``EnvelopeSettings.settle``; a week's
   measured period settles itself).

Steps are whole periods and land exactly on every landmark the caller gives
(changes of routine, clinic visits, kept trajectory days, the end of the run);
the last stretch before a landmark that is too short for a step is simulated
in full. When a daily marker crosses one of the ADA thresholds between two
simulated periods further apart than ``crossing_fraction`` of the run (0.25 %),
the step is rejected and redone from one period before the crossing
estimated by interpolation, in steps no longer than that, so every crossing
day is interpolated between simulated periods at most 0.25 % of the run apart.

Rows of the daily table between simulated periods are interpolated linearly
between the simulated rows of the same phase of the period (same weekday for
a weekly routine) and flagged in the boolean ``interpolated`` column.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numba
import numpy as np

from glucosim.errors import GlucosimError
from glucosim.physiology.indices import FIRST_QUADRATURE, STATE_TABLE, Drv, St
from glucosim.physiology.units import DAYS_PER_YEAR
from glucosim.simulation import markers

WEEK_DAYS = 7
SETTLE_MODES = ("correct", "simulate", "none")
"""``EnvelopeSettings.settle``: how a daily routine's landing period is brought onto its periodic orbit."""
MEMORY_CONTRACTION = 1e-6
"""A fast state whose own relaxation over a period leaves more than this of an offset (the running means, liver
glycogen, the clock; not the insulin and glucose compartments, which forget theirs within hours) has its start off
the periodic orbit taken out of a landing period's slopes (``_correct_landing``)."""
SETTLE_CONTRACTION = 0.5
"""The settling correction assumes at most this contraction per period: states relaxing over many periods
(liver glycogen) are not extrapolated along the secant nor over-corrected, they settle as they go."""
STABILITY = {2: 1.0, 3: 6.0 / 11.0}
"""Real stability interval of the explicit Adams-Bashforth steps of order 2 and 3: the extrapolation over the step
times a state's relaxation rate stays within it (for the states not integrated exponentially)."""
STATE_SCALE = np.array([spec.atol for spec in STATE_TABLE]) / STATE_TABLE[St.beta_function_rel].atol
"""Each state's physiological scale relative to the beta cells' (1): the solver's absolute tolerances of the state
table are ~1e-10 of it. The envelope's ``atol`` is in beta-cell units and scaled by this, so an absolute error means
as much in kg of weight (scale 100) or kcal/day of adaptive thermogenesis (scale 1e4) as in relative function."""
CROSSING_COLUMNS = tuple(sorted({column for column, _ in markers.CROSSINGS.values() if column != "hba1c_percent"}))
"""Daily columns whose threshold crossings are refined (HbA1c is a 90-day trailing mean of the daily mean
glucose, computed afterwards from the daily table, so its crossing is as accurate as those rows)."""
CROSSING_THRESHOLDS = {
    column: tuple(sorted({threshold for name, threshold in markers.CROSSINGS.values() if name == column}))
    for column in CROSSING_COLUMNS
}
"""Each of ``CROSSING_COLUMNS``' thresholds."""


class EnvelopeSettingsError(GlucosimError, ValueError):
    """An ``EnvelopeSettings`` field has a value outside the ones allowed."""


@dataclass(frozen=True)
class EnvelopeSettings:
    """Error control and step limits of envelope following.

    Attributes:
        rtol: relative local error allowed per envelope step on each slow state.
        atol: absolute local error per step, in beta-cell units (relative function and mass), scaled to each slow
            state by its physiological scale (``STATE_SCALE``: 100 for kg of weight, 1e4 for kcal/day of adaptive
            thermogenesis) unless ``scaled_atol`` is off.
        max_step_days: longest envelope step. Before a beta-cell failure the envelope is unstable (less function,
            more glucose, more glucotoxicity), so an error made on the approach grows through the switch: with a
            priori error control alone, 120-day steps made scenario 06a's failure a day late and moved its steepest
            year's beta-cell function by 1.2 %, so the cap was 60 days. The measured error (``measured_error``)
            now rejects a step whose landing slopes leave the extrapolation, which is what a failure's start
            does. What bounds the cap now is the daily table between simulated days, interpolated linearly: a
            yearly mean of a curved marker (HOMA-IR as fasting insulin climbs) drifts with the step's square.
            Measured: scenario 05's largest yearly difference is 0.10 % with 60-day steps, 0.27 % with 90, 0.47 %
            with 120 and 0.58 % with 240 (tighter slow-state tolerances do not change it); scenario 20's weight
            change in year 6 (0.8 kg, relaxing after the walking starts) 0.62 % with 60 and 1.35 % with 90. So
            60 days for a daily routine. (A parabola through three simulated rows instead of the line moved
            scenario 20's 0.62 % to 0.58 % only, and tighter tolerances did not remove it either: what grows
            with the step there is not yet understood.) Since the landing day's slopes are corrected for its start
            off the periodic orbit (``settle`` "correct"), 90 days: measured over every shipped scenario and the
            accuracy tests' cohort patients against full resolution (2026-12-03), the worst yearly difference is
            0.89 % with 90 (scenario 20's HOMA-IR in year 4; 0.86 % with 60) and 1.16 % with 120 (scenario 07b's
            weight change in year 14, -0.11 kg: the yearly values are means of each year's last week, and a weight
            change that is still near zero sets the relative criterion); 4,365 simulated days in all with 90, 4,527
            with 60, 4,278 with 120; scenario 03 143, 170 and 129. 60 again since the first phase saturated
            (2026-12-05, evening; benchmarks/envelope_accuracy.py): with 90, scenario 20's weight change in year 6
            (0.79 kg) was 1.07 % off full resolution, over issue 12's 1 %; 0.89 % with 75 and 0.63 % with 60, the worst
            of every run with 60 (4,500 simulated days in all against 4,186 with 90, envelope CPU 4.7 against 3.8 s;
            scenario 03 169 days against 144).
        max_step_days_weekly: longest envelope step of a weekly routine (13 weeks). Measured with 91-day steps:
            scenario 04 0.13 % (0.07 % with 60 days), 22a/22b and the prevention cohort's lifestyle arm at most
            0.25 %; each step costs a simulated week, so the cap decides the lifestyle arm's cost (306 simulated
            days in 3 years instead of 354).
        growth: largest factor by which a step may grow over the previous one.
        safety: the step is this fraction of the one the error estimate allows.
        crossing_periods: a threshold crossing between simulated periods further apart than this many
            periods and than ``crossing_fraction`` of the run is refined.
        crossing_fraction: the longest bracket of simulated periods around a threshold crossing, as a fraction of
            the run. The crossing day is interpolated inside its bracket, so its error is at most the bracket
            (0.25 % of the run; issue 12 allows 1 %), and in practice a day or two.
        refine_periods: around a refined crossing, steps are at most the longest bracket (or this many periods
            if longer) from one period before the estimated crossing to that far past it.
        order: 2 or 3, the order of the Adams-type extrapolation (2 has the larger stability interval).
        relaxing_tolerance: factor on ``rtol`` and ``atol`` for the slow states integrated exponentially (outside
            the glucose loop): an error made on them decays with their own relaxation instead of adding up over
            the run (or growing through a beta-cell failure, as the loop's do). Measured on the prevention
            cohort's lifestyle arm: 4 instead of 1 saved a quarter of the simulated days and moved no yearly
            marker by more than 0.17 % (from 0.02 %).
        settle: how a daily routine's landing period is brought onto its periodic orbit (a week's measured period
            settles itself). "correct" (default): the landing day is simulated straight from the extrapolated
            state, and the part of its slopes owed to the fast states' start off their orbit is taken out
            afterwards (``_correct_landing``): one simulated day per envelope step. "simulate": one settling day
            from the extrapolated state corrects the fast states before the measured day (``_settle``): two.
            "none": neither. Measured over every shipped scenario and the accuracy tests' cohort patients against
            full resolution (2026-12-03): "simulate" integrated 6,154 days in all, with the worst crossing 0.19 %
            of the run and the worst yearly difference 0.55 % (scenario 20's weight change in year 6), both with a
            60-day longest step; "correct" 4,527 days, 0.19 % and 0.86 % with 60 days, 4,365 days, 0.19 % and
            0.89 % with the default 90 (scenario 20's HOMA-IR in year 4, the year its walking starts: the landing
            days' fasting rows start off the orbit); "none" held scenario 03's weight change in year 14 5.9 % off.
            ``True`` and ``False`` (the flag this was before 2026-12-03) mean "simulate" and "none".
        prior_factor: factor on the tolerance of the a priori estimate (the extrapolation's last Newton term),
            which proposes the step; the measured error then accepts it at the tolerance itself or rejects it.
            The a priori estimate from three simulated periods is pessimistic where slopes change for a while
            and then settle (a weight-loss programme's first months, a beta-cell function adapting at the start):
            with 1 the lifestyle arm of the prevention cohort took two-period steps for its first 100 days.
        scaled_atol: scale ``atol`` by each state's physiological scale (``STATE_SCALE``).
        stiff_loop_exponential: integrate the own relaxation of a state inside the glucose loop (beta-cell mass and
            function) exponentially when the explicit step's stability interval would hold the step below
            ``max_step_days`` (``|rate| (cap - period)`` beyond it); its tolerance stays the loop's (no
            ``relaxing_tolerance``, and an error spends its share of the year as if never forgotten). Since function
            has a sharp ceiling at its reserve (growth x (1 - (function/reserve)^8)), it relaxes onto it at
            0.03-0.06/day through the years of prediabetes, which capped steps at ~10 days: scenario 03 simulated
            929 of 7,305 days (460 steps) instead of 340 (163 steps) with this on. Measured over every shipped
            scenario and the accuracy tests' cohort patients against full resolution: 11,389 simulated days in
            all without it, 5,914 with it; the worst crossing difference 0.192 % of the run either way (scenario
            04), the worst yearly difference 0.90 % without (scenario 21's weight in year 11) and 0.55 % with
            (scenario 20's weight in year 6), the same final stages.
        period_rtol: relative tolerance of the integrator in the periods envelope following simulates (unless
            ``simulate`` is given ``rtol``). The envelope's own error (``rtol`` above, 2e-3 a year on the slow
            states) dwarfs the integrator's, so 1e-4 instead of full resolution's 1e-6 costs about 1.4 times
            less and, over every shipped scenario and the cohort patients of tests/test_envelope.py, kept the worst
            crossing difference against full resolution at 0.034 % of the run (a crossing moved by a day in
            scenario 06b) and moved the largest yearly difference from 0.60 % to 0.59 %.
    """

    rtol: float = 2e-3
    atol: float = 2e-4
    max_step_days: int = 60
    max_step_days_weekly: int = 91
    growth: float = 2.0
    safety: float = 0.8
    crossing_periods: int = 4
    crossing_fraction: float = 0.0025
    refine_periods: int = 3
    settle: str = "correct"
    order: int = 3
    relaxing_tolerance: float = 4.0
    prior_factor: float = 10.0
    scaled_atol: bool = True
    period_rtol: float = 1e-4
    stiff_loop_exponential: bool = True

    def __post_init__(self):
        if isinstance(self.settle, bool):  # the flag before 2026-12-03: True simulated the settling day, False neither
            object.__setattr__(self, "settle", "simulate" if self.settle else "none")
        if self.settle not in SETTLE_MODES:
            raise EnvelopeSettingsError(
                f"EnvelopeSettings.settle {self.settle!r} is not one of: {', '.join(SETTLE_MODES)}"
            )


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
    # away from zero, so a state's own decay term shows, and each state moved by its own offset, so a running mean
    # and the mean it follows (glucose_baseline_mg_dl of glucose_mean_mg_dl) do not land on the same value
    y = y * 1.1 + 0.01 * (1.0 + np.arange(len(y)) / len(y))
    on = np.empty_like(y)
    off = np.empty_like(y)
    rhs(0.0, y, drv, p, on)
    drv[Drv.slow_dynamics_on] = 0.0
    rhs(0.0, y, drv, p, off)
    slow = (off == 0.0) & (on != off)
    slow[FIRST_QUADRATURE:] = False
    return slow


def glucose_loop_states(rhs, y: np.ndarray, drv: np.ndarray, p: np.ndarray) -> np.ndarray:
    """States whose derivative responds to the running mean glucose: the beta cells, inside the glucose loop.

    Their envelope is set by the loop (less function, more glucose, more glucotoxicity: a switch), not by their
    own relaxation, so envelope following does not integrate their relaxation exponentially (measured on
    scenario 03 before function's reserve became a sharp ceiling: doing so moved the steepest year's beta-cell
    function by 1 % instead of 0.1 %), unless it is stiff enough to cap the step
    (``EnvelopeSettings.stiff_loop_exponential``). Found by
    evaluating ``rhs`` at ``y`` and at ``y`` with the running mean glucose 1 % higher.
    """
    base = np.empty_like(y)
    moved = np.empty_like(y)
    rhs(0.0, y, drv, p, base)
    trial = y.copy()
    trial[St.glucose_mean_mg_dl] *= 1.01
    rhs(0.0, trial, drv, p, moved)
    loop = moved != base
    loop[St.glucose_mean_mg_dl] = False
    loop[FIRST_QUADRATURE:] = False
    return loop


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
    """The daily table being filled: simulated rows as they come, interpolated rows at the end.

    Only the columns whose threshold crossings are refined are written as the rows come (``crossing`` reads
    them); the others are written once, when ``columns`` is first read, in one pass per column instead of one per
    simulated period (envelope following puts a period's rows after every step: a few dozen columns each).
    """

    def __init__(self, n_days: int):
        self.n_days = n_days
        self._columns: dict[str, np.ndarray] = {}
        self._pending: list[tuple[int, dict]] = []
        self._order: dict[str, None] = {}  # the columns in the order the rows have them
        self.simulated = np.zeros(n_days, dtype=bool)

    @property
    def columns(self) -> dict[str, np.ndarray]:
        """Every column (in the rows' order), with the rows put so far."""
        if self._pending:
            self._write(self._pending)
            self._pending = []
        return {name: self._columns[name] for name in self._order}

    def _write(self, puts) -> None:
        """Write ``puts`` ((first day, rows) in the order they were put: a later put of a day wins). Rows are a dict
        of columns or what they are computed from (``simulation.daily.DailySamples``), computed here in one pass."""
        samples = [(first, rows) for first, rows in puts if not isinstance(rows, dict)]
        puts = [(first, rows) for first, rows in puts if isinstance(rows, dict)]
        if samples:
            together = samples[0][1].concatenate([rows for _, rows in samples])
            days = np.concatenate([np.arange(first, first + len(rows)) for first, rows in samples])
            last = _last_of_each(days)
            columns = together.take(last).columns()
            self._order.update(dict.fromkeys(columns))
            for name, values in columns.items():
                self._column(name, values.dtype)[days[last]] = values
        for first, rows in puts:
            for name, values in rows.items():
                values = np.asarray(values)
                self._column(name, values.dtype)[first : first + len(values)] = values

    def _column(self, name: str, dtype) -> np.ndarray:
        if name not in self._columns:
            empty = np.nan if np.dtype(dtype).kind == "f" else 0
            self._columns[name] = np.full(self.n_days, empty, dtype=dtype)
        return self._columns[name]

    def put(self, first_day: int, rows) -> None:
        """Put the simulated rows of the days from ``first_day``: a dict of columns, or what they are computed from
        (``simulation.daily.DailySamples``, computed when ``columns`` is read)."""
        if isinstance(rows, dict):
            n = len(next(iter(rows.values())))
            self._order.update(dict.fromkeys(rows))
            crossing = {name: np.asarray(rows[name]) for name in CROSSING_THRESHOLDS if name in rows}
        else:
            n = len(rows)
            crossing = rows.glucose_columns()
        for name, values in crossing.items():
            self._column(name, values.dtype)[first_day : first_day + n] = values
        self._pending.append((first_day, rows))
        self.simulated[first_day : first_day + n] = True

    def forget(self, first_day: int, n: int) -> None:
        self.simulated[first_day : first_day + n] = False

    def crossing(self, start: int, step: int, period: int) -> float | None:
        """Interpolated day of the first threshold crossing between the simulated periods at ``start`` and
        ``start + step``, or None."""
        found = math.inf
        for column, thresholds in CROSSING_THRESHOLDS.items():
            values = self._columns[column]
            for phase in range(period):
                a, b = float(values[start + phase]), float(values[start + step + phase])
                if not (math.isfinite(a) and math.isfinite(b)):
                    continue
                for threshold in thresholds:
                    if (a >= threshold) != (b >= threshold):
                        fraction = (threshold - a) / (b - a)
                        found = min(found, start + phase + fraction * step)
        return None if math.isinf(found) else found

    def interpolate(self, start: int, step: int, period: int) -> None:
        """Fill rows between the simulated periods at ``start`` and ``start + step`` (same phase, linear)."""
        self.interpolate_steps([(start, step, period)])

    def interpolate_steps(self, steps) -> None:
        """``interpolate`` for every (start, step, period) of ``steps`` at once: one pass over the columns instead
        of one per envelope step (a twentieth of envelope following's own time on scenario 03)."""
        if not steps:
            return
        # every step's interpolated days at once: step k fills start + period .. start + step - 1
        start, step, period = np.array(steps, dtype=np.int64).T
        counts = step - period
        day = np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts)  # 0, 1, .. within each step
        start, step, period = (np.repeat(column, counts) for column in (start, step, period))
        day += start + period
        low = start + (day - start) % period
        high = np.minimum(low + step, self.n_days - 1)
        weight = (day - low) / step
        for name, values in self.columns.items():
            if name == "day":  # the row's own day number, not a neighbour's
                values[day] = day
                continue
            if values.dtype.kind == "f":
                before = values[low]
                values[day] = before + weight * (values[high] - before)
            else:
                values[day] = values[low]


def _last_of_each(days: np.ndarray) -> np.ndarray:
    """Positions of the last occurrence of each day in ``days`` (a day put again replaces what was put before)."""
    _, from_end = np.unique(days[::-1], return_index=True)
    return len(days) - 1 - from_end


def _phi(z: np.ndarray, orders: tuple[int, ...] = (1, 2, 3)) -> tuple[np.ndarray, ...]:
    """phi_1, phi_2, phi_3 (or those of ``orders``) of the exponential integrators at ``z`` (<= 0): phi_1(z) =
    (e^z - 1) / z, phi_(k+1)(z) = (phi_k(z) - 1/k!) / z, with phi_k(0) = 1/k! (Taylor series near 0, where the
    recursion cancels; evaluated only where needed, in Horner form: ``z**3`` on an array calls ``pow`` per element,
    which made this function a tenth of envelope following's own time)."""
    small = np.abs(z) < 1e-2
    safe = np.where(small, -1.0, z)
    phi = {1: np.expm1(safe) / safe}
    if max(orders) >= 2:
        phi[2] = (phi[1] - 1.0) / safe
    if max(orders) >= 3:
        phi[3] = (phi[2] - 0.5) / safe
    if small.any():
        near = z[small]
        if 1 in orders:
            phi[1][small] = 1.0 + near * (1.0 / 2.0 + near * (1.0 / 6.0 + near / 24.0))
        if 2 in orders:
            phi[2][small] = 0.5 + near * (1.0 / 6.0 + near * (1.0 / 24.0 + near / 120.0))
        if 3 in orders:
            phi[3][small] = 1.0 / 6.0 + near * (1.0 / 24.0 + near * (1.0 / 120.0 + near / 720.0))
    return tuple(phi[order] for order in orders)


def _rest(entry, rates: np.ndarray, relaxing: bool = True) -> np.ndarray:
    """A simulated period's mean slope less the states' own relaxation at its midpoint (``rates`` 1/day; only if
    ``relaxing``, i.e. some rate is nonzero)."""
    return entry[1] - rates * entry[3] if relaxing else entry[1]


def rest_polynomial(history, period: int, rates: np.ndarray) -> list[np.ndarray]:
    """Coefficients c0, c1[, c2] of the slow states' slope less their own relaxation, as a polynomial in s, the
    time in days from the end of the last simulated period: the Newton interpolant through the last two or three
    periods' midpoints (``history`` as in ``_choose_step``)."""
    u0 = period / 2.0
    relaxing = bool(rates.any())
    n0 = _rest(history[-1], rates, relaxing)
    n1 = _rest(history[-2], rates, relaxing)
    gap1 = history[-1][0] - history[-2][0]
    a1 = (n0 - n1) / gap1
    coefficients = [n0 + a1 * u0, a1]
    if len(history) == 3:
        gap2 = history[-2][0] - history[-3][0]
        a2 = (a1 - (n1 - _rest(history[-3], rates, relaxing)) / gap2) / (gap1 + gap2)
        coefficients[0] = coefficients[0] + a2 * u0 * (u0 + gap1)
        coefficients[1] = coefficients[1] + a2 * (2.0 * u0 + gap1)
        coefficients.append(a2)
    return coefficients


def measured_error(
    coefficients,
    rates: np.ndarray,
    step: int,
    period: int,
    y_landing: np.ndarray,
    slope_landing: np.ndarray,
    phi2: np.ndarray | None = None,
) -> np.ndarray:
    """A posteriori error of an envelope step, from the landing period simulated after it.

    The landing period's mean slope, less the states' own relaxation at its midpoint, is compared with the
    polynomial the step extrapolated (``rest_polynomial``) at that midpoint, ``s = step - period / 2``. Taking
    the deviation to grow linearly from the end of the measured period (where the polynomial interpolates) to the
    landing, the increment's error is the deviation times its weight in the exponential step, ``tau phi_2(rate
    tau)`` with ``tau = step - period`` (``tau / 2`` without relaxation). Unlike the a priori estimate (the
    extrapolation's last Newton term), this sees what the slopes did over the step: the start of a beta-cell
    failure that the past periods did not announce, or a curvature that did not continue. ``phi2``: ``phi_2(rate
    tau)``, if computed already (``_choose_step`` has it for the step it chose).
    """
    tau = float(step - period)
    s = tau + period / 2.0
    predicted = sum(c * s**k for k, c in enumerate(coefficients))
    midpoint = y_landing + 0.5 * period * slope_landing
    deviation = slope_landing - rates * midpoint - predicted
    if phi2 is None:
        phi2 = _phi(tau * rates, (2,))[0]
    return np.abs(deviation) * tau * phi2


def error_horizon(steps, rates: np.ndarray) -> np.ndarray:
    """The share of a slow state's tolerance one envelope step of ``steps`` days may spend (rows: steps).

    Errors of a state integrated without its own relaxation add up over the run, so a step may spend its share
    of the year, ``step / 1 year``. A state integrated exponentially (relaxing at ``rates`` < 0, per day) forgets
    an error within about ``1 / |rate|``: the errors that add up are those of the last ``1 / (|rate| step)``
    steps, so a step may spend ``min(1, |rate| step)`` of it, whichever is larger (liver fat relaxes in weeks:
    its steps of a month may spend all of it, not a twelfth).
    """
    steps = np.atleast_1d(np.asarray(steps, dtype=float))[:, None]
    return np.maximum(steps / DAYS_PER_YEAR, np.minimum(1.0, -np.minimum(rates, 0.0)[None, :] * steps))


@numba.njit(cache=True, error_model="numpy")
def _candidate_table(tau, rates, em1, steps, horizon_rates, newest, a, b, three, level, scale, prior_factor, safety):
    # _choose_step's table of candidate steps in one compiled pass (numpy's call overhead on its ~40 small arrays
    # was most of its time), element by element in numpy's own order of operations, so bit-identical; the
    # exponential's expm1 (``em1``, at ``where(|z| < 1e-2, -1, z)``) stays numpy's, whose last bit libm's differs in
    n, m = em1.shape
    within = np.ones(n, dtype=np.bool_)
    w0 = np.empty((n, m))
    w1 = np.empty((n, m))
    w2 = np.empty((n, m))
    phi2 = np.empty((n, m))
    horizon = np.empty((n, m))
    for i in range(n):
        t1 = tau[i]
        t2 = t1 * t1
        t3 = 2.0 * (t2 * t1)
        share = steps[i] / DAYS_PER_YEAR
        for j in range(m):
            z = t1 * rates[j]
            if abs(z) < 1e-2:  # Taylor series, as _phi's
                p1 = 1.0 + z * (1.0 / 2.0 + z * (1.0 / 6.0 + z / 24.0))
                p2 = 0.5 + z * (1.0 / 6.0 + z * (1.0 / 24.0 + z / 120.0))
                p3 = 1.0 / 6.0 + z * (1.0 / 24.0 + z * (1.0 / 120.0 + z / 720.0))
            else:
                p1 = em1[i, j] / z
                p2 = (p1 - 1.0) / z
                p3 = (p2 - 0.5) / z
            w0[i, j] = t1 * p1
            w1[i, j] = t2 * p2
            w2[i, j] = t3 * p3
            phi2[i, j] = p2
            if three:
                error = newest[j] * (a * w0[i, j] + b * w1[i, j] + w2[i, j])
            else:
                error = newest[j] * (a * w0[i, j] + w1[i, j])
            forget = -min(horizon_rates[j], 0.0) * steps[i]
            forget = forget if forget < 1.0 or forget != forget else 1.0  # np.minimum(1.0, .): NaN stays
            h = forget if forget > share or forget != forget else share  # np.maximum(share, .)
            horizon[i, j] = h
            tolerance = h * level[j] * scale[j] * prior_factor
            if not abs(error) / tolerance <= safety:
                within[i] = False
    return within, w0, w1, w2, phi2, horizon


def _choose_step(
    history,
    period: int,
    longest: int,
    y_slow: np.ndarray,
    settings: EnvelopeSettings,
    rates: np.ndarray | None = None,
    scale: np.ndarray | float = 1.0,
    prior_factor: float = 1.0,
    atol: np.ndarray | float | None = None,
    horizon_rates: np.ndarray | None = None,
    coefficients: list[np.ndarray] | None = None,
    chosen: dict | None = None,
):
    """The envelope step (days, a multiple of ``period``) and the slow states' increment past the simulated period.

    The slope over a simulated period is its mean, i.e. the envelope's slope at the period's midpoint.
    Each slow state's slope is split into its own relaxation, ``rates * y`` (``rates`` <= 0 per day, the
    diagonal of the model's Jacobian; zero if not given), and the rest. Through the rest at the last (up to
    three) midpoints runs a polynomial in time (Newton form, nodes t_n, t_n-1, t_n-2), and the step integrates
    the relaxation exactly and the polynomial with the relaxation's exponential weight, from the end of the
    current period to the end of the step: an exponential Adams-Bashforth step of order 3 (or 2 with two
    slopes; Hochbruck & Ostermann 2010, Acta Numerica 19:209). With ``rates`` zero it is the plain Adams-Bashforth
    step; with them a state that relaxes fast towards a slowly moving target (liver fat, activity, adaptive
    thermogenesis: time constants of days to weeks) no longer limits the step by stability.
    The last Newton term estimates the error; the step is the longest whose estimate stays within
    ``scale * tolerance * H / 1 year`` (error per unit step, so the error of a whole run scales with its length, not
    with its number of steps).

    ``history`` holds (start day, slope per day, end state[, slow states at the period's midpoint]) of the last
    simulated periods; the midpoint states are needed only with ``rates``. ``horizon_rates`` (default ``rates``)
    are the rates at which each state forgets its errors (``error_horizon``): zero for a state integrated
    exponentially inside the glucose loop, whose errors the loop carries on. ``coefficients``: the polynomial's
    (``rest_polynomial(history, period, rates)``), if computed already. ``chosen``, if given, receives the chosen
    step's ``phi2`` (``phi_2(rates tau)``) and ``horizon`` (``error_horizon``), as ``measured_error`` and the step's
    acceptance use them.
    """
    slope = history[-1][1]
    if len(history) < 2 or longest <= period:
        return period, np.zeros_like(slope)
    rates = np.zeros_like(slope) if rates is None else np.minimum(rates, 0.0)
    steps = np.arange(2, longest // period + 1) * period
    u0 = period / 2.0  # time from the current midpoint to the end of the current period
    tau = (steps - period).astype(float)  # from the end of the current period to the end of the step
    # the rest as a polynomial in s, the time from the end of the current period: c0 + c1 s + c2 s^2
    if coefficients is None:
        coefficients = rest_polynomial(history, period, rates)
    newest = coefficients[-1]  # the highest-order term: its contribution estimates the error
    gap1 = history[-1][0] - history[-2][0]
    z = tau[:, None] * rates  # np.outer's values, without its wrapper
    # integrals of e^(rate (tau - s)) s^k over [0, tau] are the weights tau phi_1, tau^2 phi_2, 2 tau^3 phi_3
    if len(coefficients) == 3:  # the a2 Newton term u (u + gap1) in s: u0 (u0 + gap1) + (2 u0 + gap1) s + s^2
        a, b = u0 * (u0 + gap1), 2.0 * u0 + gap1
    else:  # the a1 Newton term u = u0 + s
        a, b = u0, 1.0
    atol = settings.atol if atol is None else atol
    horizon_rates = rates if horizon_rates is None else np.minimum(horizon_rates, 0.0)
    level = atol + settings.rtol * np.abs(y_slow)  # per slow state, as y_slow
    within, *weights, phi2, horizon = _candidate_table(
        tau,
        rates,
        np.expm1(np.where(np.abs(z) < 1e-2, -1.0, z)),  # phi_1's exponential as _phi takes it
        steps.astype(float),
        horizon_rates,
        newest,
        float(a),
        float(b),
        len(coefficients) == 3,
        level,
        np.full(rates.shape, float(scale)) if np.ndim(scale) == 0 else np.asarray(scale, dtype=float),
        float(prior_factor),
        float(settings.safety),
    )
    allowed = np.argmin(within) if not within.all() else len(steps)  # first failing candidate
    if allowed == 0:
        return period, np.zeros_like(slope)
    # the increment of the chosen step only (each entry as the whole table of candidates would have it)
    row = allowed - 1
    increment = np.expm1(z[row]) * y_slow + sum(c * w[row] for c, w in zip(coefficients, weights))
    if chosen is not None:
        chosen.update(phi2=phi2[row], horizon=horizon[row])
    return int(steps[row]), increment


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


@dataclass(frozen=True)
class _PeriodTerms:
    """What the landing of every step of one period length uses from the states' own relaxation (``relaxation``,
    the run's start's: it does not change from step to step), made once per period length."""

    secant: np.ndarray  # the fast states moved along the secant (relaxing within a period), among the fast ones
    memory: np.ndarray  # the fast states whose start off the periodic orbit a landing period remembers
    contraction: np.ndarray  # their contraction over a period, capped at SETTLE_CONTRACTION
    rates: np.ndarray  # their relaxation rates (per day) at that contraction; zero for the other states

    @classmethod
    def make(cls, relaxation: np.ndarray, fast: np.ndarray, period: int) -> _PeriodTerms:
        contraction = np.exp(period * relaxation)
        memory = fast & (contraction > MEMORY_CONTRACTION)
        c = np.minimum(contraction[memory], SETTLE_CONTRACTION)
        rates = np.zeros_like(relaxation)
        rates[memory] = np.log(c) / period
        return cls(np.exp(period * relaxation[fast]) < SETTLE_CONTRACTION, memory, c, rates)


def _extrapolate(y_end, before, where, masks, terms: _PeriodTerms, increment) -> np.ndarray:
    """The state at the landing of a step (``where`` = (day, step, period), ``masks`` = (slow, fast)): the slow
    states extrapolated by ``increment``, the fast ones moved along the secant of the last two periods."""
    day, step, period = where
    slow, fast = masks
    y_next = y_end.copy()
    y_next[slow] += increment
    # the other states follow the envelope too (the running means lag glucose by about a day): move them
    # along the secant of the two last simulated periods' end states, so they start the next period
    # consistent with the slow states instead of stale by the whole step
    end_fast = y_end[fast]
    moved = end_fast + (step - period) * (end_fast - before[2][fast]) / (day - before[0])
    # a state that relaxes over many periods (liver glycogen) would amplify its own lag along the secant:
    # it keeps its end-of-period value
    moved = np.where(terms.secant, moved, end_fast)
    # a state near zero at midnight (food left in the gut, exercise after-effects) is never moved past it
    y_next[fast] = np.where(moved * end_fast < 0.0, end_fast, moved)
    return y_next


def _settle(stepper, y_next, y_end, before, where, fast, relaxation, settings) -> np.ndarray:
    """For a daily routine, the landing state with its fast states corrected onto their periodic orbit.

    Settling pass: the slow states' rates are very sensitive to the running means (0.1 mg/dl of mean glucose
    moves the beta-cell mass rate by tens of percent), which a day of simulation only pulls 63 % of the way to
    consistency. One period from the extrapolated state tells how far each fast state is off its periodic orbit,
    assuming it relaxes like exp(J_ii t); the measured period then starts from the corrected state. Daily
    routines only: a week's measured period has six more days to pull the running means onto their orbit, so its
    mean slope carries little of the landing's offset (on the prevention cohort's weekly lifestyle arm, settling
    changed no yearly marker by more than 0.01 % and cost 40 % more simulated days).
    """
    day, step, period = where
    if not (settings.settle == "simulate" and period == 1):
        return y_next
    landing = day + step
    _, y_settled = stepper.run(y_next, landing, period, keep=False)
    shift = period * (y_end[fast] - before[2][fast]) / (day - before[0])
    contraction = np.minimum(np.exp(period * relaxation[fast]), SETTLE_CONTRACTION)
    corrected = y_next[fast] + (y_settled[fast] - shift - y_next[fast]) / (1.0 - contraction)
    y_next = y_next.copy()
    y_next[fast] = np.where(corrected * y_next[fast] < 0.0, y_next[fast], corrected)
    return y_next


def _correct_landing(stepper, y_next, y_after, y_end, before, where, masks, terms: _PeriodTerms) -> np.ndarray:
    """The end state of a landing period simulated straight from the extrapolated state, as if that period had
    started on its periodic orbit (``EnvelopeSettings.settle`` "correct", daily routines).

    The extrapolated fast states are off their periodic orbit, and the slow states' rates are very sensitive to
    the running means (0.1 mg/dl of mean glucose moves the beta-cell mass rate by tens of percent), so the landing
    period's slopes carry that offset. Each fast state with a memory of more than a period's fraction (its own
    relaxation ``exp(rate P)`` above ``MEMORY_CONTRACTION``: the running means, liver glycogen, the clock) started
    off its orbit by ``delta0 = (y_next + shift - y_after) / (1 - c)``, with ``shift`` its drift over a period
    along the secant of the last two simulated periods and ``c`` its contraction over the period, capped at
    ``SETTLE_CONTRACTION`` as the settling day's correction is. The part of the slow states' slopes owed to that
    offset, decaying as ``delta0 c^(t / P)``, is the right-hand side along the period's trajectory less the same
    with the offset taken away (``DayStepper.offset_bias``); the end state loses it and ``c delta0``.
    """
    day, _, period = where
    slow = masks[0]
    memory, c = terms.memory, terms.contraction
    shift = period * (y_end[memory] - before[2][memory]) / (day - before[0])
    delta0 = np.zeros_like(y_next)
    delta0[memory] = (y_next[memory] + shift - y_after[memory]) / (1.0 - c)
    bias = stepper.offset_bias(delta0, terms.rates)
    corrected = y_after.copy()
    corrected[memory] -= c * delta0[memory]
    corrected[slow] -= bias[slow] * period
    return corrected


def follow_envelope(
    stepper,
    y: np.ndarray,
    n_days: int,
    landmarks,
    slow: np.ndarray,
    relaxation: np.ndarray,
    settings: EnvelopeSettings | None = None,
    progress=None,
    exponential: np.ndarray | None = None,
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
        exponential: boolean mask of the slow states whose own relaxation the step integrates exactly (see
            ``_choose_step``; the slow states outside ``glucose_loop_states``); none if not given.

    Returns:
        (daily-table columns including ``interpolated``, state at the end, what the envelope did).
    """
    settings = settings or EnvelopeSettings()
    relaxing = np.zeros(int(slow.sum()), dtype=bool) if exponential is None else exponential[slow]

    def rates():  # the slow states' own relaxation rates over the last stretch
        return stepper.mean_relaxation(slow_states)[slow]

    fast = ~slow
    fast[FIRST_QUADRATURE:] = False
    slow_states = np.flatnonzero(slow)
    atol = settings.atol * (STATE_SCALE[slow] if settings.scaled_atol else 1.0)
    scale = np.where(relaxing, settings.relaxing_tolerance, 1.0)
    table = _Table(n_days)
    stats = EnvelopeStats()
    program = stepper.program
    changes = sorted({day for day, _ in program.change_days if 0 < day < n_days})
    stops = sorted({int(day) for day in landmarks if 0 < day < n_days} | set(changes) | {n_days})
    refine_zones: list[tuple[int, int]] = []
    pending: list[tuple[int, int, int]] = []  # (start, step, period) whose rows are interpolated at the end
    history: list = []  # (day, slow slope per day, end state, slow midpoint state) of the last simulated periods
    last_step = None
    measured_ratio: float | None = None  # the last envelope step's measured error over its tolerance
    periods: dict[int, int | None] = {}
    current = None  # (day, state at its end, slope, period) of a period simulated ahead
    period_terms: dict[int, _PeriodTerms] = {}
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
        if current is not None and current[0] == day and (period is None or stop - day < 2 * period):
            # the landing period is simulated already: take it before simulating on in full
            _, y, _, simulated_period, _ = current
            day += simulated_period
            current = None
            continue
        if period is None or stop - day < 2 * period:
            # too short for a step: simulate in full up to the stop
            length = stop - day
            rows, y = stepper.run(y, day, length)
            table.put(day, rows)
            day += length
            if progress is not None:
                progress(day)
            continue

        if current is not None and current[0] == day:
            _, y_end, slope, _, relaxation_now = current
        else:
            y_start = y.copy()
            rows, y_end = stepper.run(y, day, period)
            table.put(day, rows)
            slope = (y_end[slow] - y_start[slow]) / period
            relaxation_now = rates()
        current = None
        # land on the stop; the last period before the end of the run is simulated
        # the last period before a change of routine (or the end) is simulated: rows are never interpolated
        # from a period under another routine
        room = min(stop - (period if stop in changes else 0), n_days - period) - day
        bracket = period * max(settings.crossing_periods, int(settings.crossing_fraction * n_days) // period)
        cap = settings.max_step_days if period == 1 else settings.max_step_days_weekly
        limit = cap if zone is None else bracket  # a crossing ahead: bracket it closely
        longest = min((room // period) * period, limit, int(settings.growth * (last_step or 0)))
        if history and any(history[-1][0] < c <= day for c in changes):
            history = []  # the slopes before a change of routine say nothing about the ones after
            measured_ratio = None
        history = (history + [(day, slope, y_end, y_end[slow] - 0.5 * period * slope)])[-settings.order :]
        # the states inside the glucose loop are integrated explicitly: their own relaxation bounds the step
        # (beta-cell function sinking to its floor after failure relaxes at ~0.01/day); one whose own relaxation
        # would hold the step below the cap (function held at its reserve's sharp ceiling relaxes at 0.03-0.06/day
        # through prediabetes) has that relaxation integrated exponentially too, with the loop's tolerance
        stiff_loop = ~relaxing & (-relaxation_now * (cap - period) > STABILITY[settings.order])
        if not settings.stiff_loop_exponential:
            stiff_loop[:] = False
        integrated = relaxing | stiff_loop
        stiffest = (-relaxation_now[~integrated]).max(initial=0.0)
        if stiffest > 0.0:
            longest = min(longest, period * int((period + STABILITY[settings.order] / stiffest) // period))
        exponential_rates = np.where(integrated, relaxation_now, 0.0)
        forgetting_rates = np.where(relaxing, relaxation_now, 0.0)
        if measured_ratio is not None and last_step is not None:
            # the controller: the measured error of the last step sets how far the next may grow
            factor = min(settings.growth, settings.safety * max(measured_ratio, 1e-12) ** (-1.0 / 3.0))
            longest = min(longest, period * max(1, int(last_step * factor) // period))
        before = history[-2] if len(history) > 1 else None
        y_end_slow = y_end[slow]
        tolerance = (atol + settings.rtol * np.abs(y_end_slow)) * scale
        # the extrapolated polynomial, made once for the step's choice, its retries and its measured error
        polynomial = rest_polynomial(history, period, exponential_rates) if before is not None else None
        while True:
            chosen: dict = {}
            step, increment = _choose_step(
                history,
                period,
                longest,
                y_end_slow,
                settings,
                exponential_rates,
                scale,
                settings.prior_factor,
                atol,
                forgetting_rates,
                polynomial,
                chosen,
            )
            if step <= period:
                break
            assert before is not None  # a step longer than one period is chosen only from two measured periods
            landing = day + step
            if period not in period_terms:
                period_terms[period] = _PeriodTerms.make(relaxation, fast, period)
            terms = period_terms[period]
            y_next = _extrapolate(y_end, before, (day, step, period), (slow, fast), terms, increment)
            if settings.settle == "correct" and period == 1:
                rows, y_after = stepper.run(y_next, landing, period)
                y_after = _correct_landing(
                    stepper, y_next, y_after, y_end, before, (day, step, period), (slow, fast), terms
                )
            else:
                y_next = _settle(stepper, y_next, y_end, before, (day, step, period), fast, relaxation, settings)
                rows, y_after = stepper.run(y_next, landing, period)
            table.put(landing, rows)
            y_next_slow = y_next[slow]
            slope_landing = (y_after[slow] - y_next_slow) / period
            error = measured_error(
                polynomial, exponential_rates, step, period, y_next_slow, slope_landing, chosen["phi2"]
            )
            ratio = float((error / (tolerance * chosen["horizon"])).max())
            if ratio <= 1.0:
                break
            # rejected: the slopes did not follow the extrapolation; retry from the same period, shorter
            stats.rejected_steps += 1
            table.forget(landing, period)
            shorter = period + (step - period) * max(0.2, settings.safety * ratio ** (-1.0 / 3.0))
            longest = period * int(min(shorter, step - period) // period)
        if step <= period:
            y, day, last_step, measured_ratio = y_end, day + period, period, None
            stats.steps += 1
            if progress is not None:
                progress(day)
            continue

        crossing = table.crossing(day, step, period)
        if crossing is not None and step > bracket:
            # refine: go back to the end of the simulated period, land one period before the crossing and go on
            # from there in steps no longer than the bracket until past it
            stats.rejected_steps += 1
            table.forget(landing, period)
            refine_start = day + period * max(1, int((crossing - day) // period) - 1)
            refine_end = max(refine_start + settings.refine_periods * period, math.ceil(crossing) + bracket)
            refine_zones.append((refine_start, refine_end))
            y, day, last_step, measured_ratio = y_end, day + period, bracket, None
            continue
        stats.steps += 1
        pending.append((day, step, period))
        # the landing period is simulated already: the next step starts from it
        current = (landing, y_after, slope_landing, period, rates())
        last_step, measured_ratio = step, ratio
        y, day = y_next, landing
        if progress is not None:
            progress(day)

    table.interpolate_steps(pending)
    _midnight_states(stepper, pending, n_days)
    columns = dict(table.columns)
    columns["interpolated"] = ~table.simulated
    stats.simulated_days = stepper.simulated_days
    return columns, y, stats
