"""Traces on demand: any day's 5-minute trace recomputed from a stored midnight state, and CGM metrics.

A run through ``glucosim.simulate`` keeps the state at midnights (a few dozen
numbers each; ``api.trace_state_days``): every midnight when it integrates every
day, so a day's trace is one day of integration away; the first midnight of each
year when it follows the envelope, so a day's trace integrates from there in full
resolution (up to a year), and ``ForwardTracer`` carries on from one traced day to
the next so that tracing consecutive days costs a day each. The recomputed day
starts from the exact state the run had at that midnight and differs from a trace
kept during the run only by the integrator's error (its first step size differs),
i.e. at the level of ``rtol``.

CGM metrics follow the international consensus on time in range (Battelino et
al. 2019, Diabetes Care 42:1593): time in range 70-180 mg/dl, below 70 and
below 54, above 180 and above 250, the coefficient of variation, and the
glucose management indicator of Bergenstal et al. 2018 (Diabetes Care 41:2275).
"""

from __future__ import annotations

import numpy as np

from glucosim.physiology.indices import FIRST_QUADRATURE, QUADRATURES, STATE_NAMES, Drv
from glucosim.physiology.model import FLUX_NAMES
from glucosim.physiology.units import MINUTES_PER_DAY
from glucosim.simulation import markers
from glucosim.solver.segments import Schedule

TRACE_STEP_MIN = 5.0
"""Spacing of a trace, minutes (a CGM reads every 5 minutes)."""


CGM_COLUMNS = (
    "mean_glucose_mg_dl",
    "sd_glucose_mg_dl",
    "cv_percent",
    "gmi_percent",
    "time_in_range_70_180_percent",
    "time_below_70_percent",
    "time_below_54_percent",
    "time_above_180_percent",
    "time_above_250_percent",
)

NEGATIVE_READING_TOLERANCE_MG_DL = 1e-3
"""How far below 0 a reading may lie: a simulated trace may dip below 0 by the integrator's tolerance (the model keeps
glucose non-negative by construction); a reading further below is not a glucose."""


def cgm_metrics(glucose_mg_dl) -> dict[str, float]:
    """CGM metrics of equally spaced glucose readings, by the international consensus (Battelino 2019).

    **Main arguments:**

    - `glucose_mg_dl`: readings at equal intervals (e.g. one day of 5-minute values, midnight to midnight
      without the closing midnight); NaN readings are ignored.

    **Returns:**

    A dict of `CGM_COLUMNS`: mean and SD (mg/dl), CV (%, SD/mean, population SD), GMI (%), and the
    percentage of readings in range 70-180 mg/dl (bounds included), below 70 (which includes below 54),
    below 54, above 180 (which includes above 250) and above 250. Below 70, in range and above 180 add
    up to 100 %.

    **Raises:** `ClinicError` if the readings are not numbers, not one-dimensional, or one is below 0.
    """
    from glucosim.errors import ClinicError

    try:
        glucose = np.asarray(glucose_mg_dl, dtype=float)
    except (TypeError, ValueError) as error:  # a string was numpy's ValueError traceback
        raise ClinicError(f"cgm_metrics: the readings must be numbers (glucose, mg/dl): {error}") from None
    if glucose.ndim != 1:
        # a whole trace (glucosim.cgm_metrics(result.trace(0))) was flattened with its time, insulin and flux
        # columns into one set of "readings": a day at 105 mg/dl had a mean glucose of 211
        raise ClinicError(
            f"cgm_metrics needs one-dimensional glucose readings, got shape {glucose.shape}; allowed: one day's "
            f"readings, e.g. trace['glucose_mg_dl'] (SimulationResult.cgm_metrics(days) for days of a run)"
        )
    glucose = glucose[np.isfinite(glucose)]
    if np.any(glucose < -NEGATIVE_READING_TOLERANCE_MG_DL):  # [-100, 100] divided by its mean of 0
        raise ClinicError(
            f"cgm_metrics: a glucose reading of {glucose.min():g} mg/dl; allowed: readings from 0 (mg/dl, not "
            f"differences from a baseline)"
        )
    if glucose.size == 0:
        return dict.fromkeys(CGM_COLUMNS, float("nan"))
    mean = float(glucose.mean())
    sd = float(glucose.std())

    def percent(mask) -> float:
        return 100.0 * float(np.count_nonzero(mask)) / glucose.size

    return {
        "mean_glucose_mg_dl": mean,
        "sd_glucose_mg_dl": sd,
        "cv_percent": 100.0 * sd / mean if mean > 0.0 else float("nan"),
        "gmi_percent": markers.GMI_INTERCEPT_PERCENT + markers.GMI_SLOPE_PERCENT_PER_MG_DL * mean,
        "time_in_range_70_180_percent": percent(
            (glucose >= markers.RANGE_LOW_MG_DL) & (glucose <= markers.RANGE_HIGH_MG_DL)
        ),
        "time_below_70_percent": percent(glucose < markers.RANGE_LOW_MG_DL),
        "time_below_54_percent": percent(glucose < markers.LEVEL2_LOW_MG_DL),
        "time_above_180_percent": percent(glucose > markers.RANGE_HIGH_MG_DL),
        "time_above_250_percent": percent(glucose > markers.LEVEL2_HIGH_MG_DL),
    }


TRACE_COLUMNS = (
    "time_min",
    "clock_h",
    *("insulin_uU_ml" if name == "insulin_pmol_l" else name for name in FLUX_NAMES),
    *STATE_NAMES[:FIRST_QUADRATURE],
    "exercise_intensity_pct",
)
"""Columns of a trace, in order."""


def trace_frame(t, y, segment, drivers, p, day: int):
    """The trace of ``day`` from integration output, in the daily table's units.

    Columns: ``time_min`` (from the start of the run), ``clock_h``, ``glucose_mg_dl``,
    ``insulin_uU_ml``, the tissue fluxes (mg/kg/min), the dynamic states, and
    ``exercise_intensity_pct`` (above rest).
    """
    import pandas as pd

    from glucosim.simulation.organ import organ_fluxes

    rows = (t >= day * MINUTES_PER_DAY) & (t <= (day + 1) * MINUTES_PER_DAY)
    fluxes = organ_fluxes()(y[rows], drivers[segment[rows]], p)
    frame = {"time_min": t[rows], "clock_h": (t[rows] - day * MINUTES_PER_DAY) / 60.0}
    for i, name in enumerate(FLUX_NAMES):
        if name == "insulin_pmol_l":
            frame["insulin_uU_ml"] = markers.insulin_uU_ml(fluxes[:, i])
        else:
            frame[name] = fluxes[:, i]
    for i, name in enumerate(STATE_NAMES[:FIRST_QUADRATURE]):
        frame[name] = y[rows, i]
    frame["exercise_intensity_pct"] = drivers[segment[rows], Drv.exercise_intensity_pct]
    return pd.DataFrame(frame)


def from_kept_trajectory(trajectory):
    """A trajectory kept during the run (insulin in pmol/l), in the units of ``trace_frame``."""
    frame = trajectory.copy()
    if "insulin_pmol_l" in frame:
        frame["insulin_uU_ml"] = markers.insulin_uU_ml(frame.pop("insulin_pmol_l").to_numpy())
    return frame[[name for name in TRACE_COLUMNS if name in frame]]


class ForwardTracer:
    """Recomputes the traces of days in increasing order from one stored midnight, integrating forward once.

    Tracing day ``d`` alone integrates from the stored midnight ``origin_day`` to the end of ``d``. After ``d``,
    the tracer continues from the state at the end of ``d`` with the solver's next step size over the same
    schedule (solver contract rule 6), so a later day's trace is identical to tracing that day alone, at the cost
    of the days in between instead of all days since ``origin_day``: tracing days 0-364 of a run that stores only
    yearly midnights was quadratic (245 s of CPU), one year of integration this way.
    """

    SCHEDULE_AHEAD_DAYS = 365
    """The schedule is compiled this far beyond the day asked for (and again, from ``origin_day``, when a later day
    needs more): a schedule is a prefix of any longer one from the same day, so its segments do not change."""

    def __init__(
        self,
        loaded,
        origin_day: int,
        origin_state: np.ndarray,
        rtol: float,
        end_day: int | None = None,
        method: str | None = None,
    ):
        from glucosim.scenario.compile import ScenarioProgram
        from glucosim.simulation.organ import DEFAULT_METHOD, default_tolerances

        self.program = ScenarioProgram(loaded)
        self.origin_day = origin_day
        # the first day this tracer may not reach: the next stored midnight (a day after it starts from there), or
        # the run's end
        self.end_day = self.program.n_days if end_day is None else end_day
        self.next_day = origin_day  # the first day it can still trace without going back
        self._schedule: Schedule | None = None
        self._schedule_days = 0
        self._y = np.array(origin_state, dtype=float)
        self._y[QUADRATURES] = 0.0
        self._tolerances = default_tolerances(rtol)
        # the run's own method (its provenance records it): a trace recomputed by another method would differ from
        # the run's days by more than the integrator's error at stiff moments, and a user who chose the method
        # for a reason (a stiff user model) would silently lose it
        self.method = DEFAULT_METHOD if method is None else method
        # (time, state, segment) of the midnight the last day ended on
        self._midnight_row: tuple[float, np.ndarray, int] | None = None

    def _schedule_to(self, day: int) -> Schedule:
        if self._schedule is None or day - self.origin_day + 1 > self._schedule_days:
            self._schedule_days = min(day + self.SCHEDULE_AHEAD_DAYS, self.end_day) - self.origin_day
            self._schedule = self.program.schedule(self.origin_day, self._schedule_days)
        return self._schedule

    def trace(self, day: int):
        """The trace of ``day`` (``next_day <= day < end_day``); the tracer then stands at the end of ``day``."""
        import dataclasses

        from glucosim.simulation.organ import organ_integrator
        from glucosim.solver.segments import integrate_schedule, schedule_arguments

        if not self.next_day <= day < self.end_day:
            raise ValueError(f"day {day} is outside {self.next_day} .. {self.end_day - 1}")
        schedule = self._schedule_to(day)
        start_min = self.next_day * MINUTES_PER_DAY
        stop = min((day + 1) * MINUTES_PER_DAY, self.program.end_min)
        grid = np.arange(day * MINUTES_PER_DAY, stop + 0.5 * TRACE_STEP_MIN, TRACE_STEP_MIN)
        t_out = np.union1d(grid[grid <= stop], [stop])
        # the day's first row is the midnight the last day ended on, as an unsplit integration gives it: the state
        # before that midnight's jump, with the previous segment's drivers
        resumed = self._midnight_row if self._midnight_row is not None and self._midnight_row[0] == t_out[0] else None
        if resumed is not None:
            t_out = t_out[1:]
        first, last = np.searchsorted(schedule.t0, [start_min, stop])
        stretch = Schedule(*(part[first:last] for part in schedule_arguments(schedule)))
        p = self.program.parameters
        result = integrate_schedule(
            organ_integrator(self.method), stretch, self._y, p, t_out, self._tolerances, STATE_NAMES
        )
        t, y, segment = result.t, result.y, result.segment + first
        if resumed is not None:
            row_t, row_y, row_segment = resumed
            t, y, segment = np.append(row_t, t), np.vstack([row_y, y]), np.append(row_segment, segment)
        self._y = result.y_final.copy()  # quadratures carried too, as in one integration (nothing reads them)
        self._tolerances = dataclasses.replace(self._tolerances, h_init=result.h_next)
        self._midnight_row = (float(t[-1]), y[-1].copy(), int(segment[-1]))
        self.next_day = day + 1
        return trace_frame(t, y, segment, schedule.drivers, p, day)


def recompute_trace(loaded, start_day: int, start_state: np.ndarray, day: int, rtol: float, method: str | None = None):
    """Integrate from the midnight of ``start_day`` (state ``start_state``) to the end of ``day``; ``day``'s trace.

    Slow dynamics run as in the original run, so a later ``start_day`` only saves work. ``method``: the run's
    solver method (default: the organ model's default).
    """
    return ForwardTracer(loaded, start_day, start_state, rtol, method=method).trace(day)
