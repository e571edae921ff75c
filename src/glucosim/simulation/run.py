"""``simulate``: run a scenario in chunks of days, streaming daily markers.

Chunks bound the memory of a decades-long run (only the daily table and a few
full-resolution days are kept) and give the progress bar its ticks; the state
is carried from chunk to chunk unchanged, so chunking does not change results.
"""

from __future__ import annotations

import dataclasses
import math
import time
from pathlib import Path

import numpy as np

from glucosim.errors import GlucosimError
from glucosim.physiology.indices import FIRST_QUADRATURE, QUADRATURES, STATE_NAMES, Drv
from glucosim.physiology.model import FLUX_NAMES
from glucosim.physiology.units import MINUTES_PER_DAY
from glucosim.scenario.compile import OUTPUT_STEP_MIN, ScenarioProgram
from glucosim.scenario.load import LoadedScenario, load_scenario
from glucosim.simulation.daily import DailySamples, daily_samples
from glucosim.simulation.envelope import EnvelopeSettings, follow_envelope, glucose_loop_states, relaxation_rates
from glucosim.simulation.initial_state import initial_state
from glucosim.simulation.organ import (
    DEFAULT_RTOL,
    default_tolerances,
    organ_fluxes,
    organ_integrator,
    organ_jacobian_diagonal,
    organ_mean_relaxation,
    organ_offset_bias,
    organ_rhs,
)
from glucosim.simulation.result import SimulationResult, build_result
from glucosim.solver import Schedule, SolverStats, get_method, integrate_schedule

CHUNK_DAYS = 30
"""Days integrated per call of the compiled core. A chunk's 5-minute grid of all states is the run's
largest array (about 2.4 MB a month, 29 MB a year), so a month keeps a 20-year run's own memory at a
few MB above the interpreter's; the call overhead per chunk is well under 1 % of its integration."""
PROGRESS_MIN_DAYS = 365
"""Runs at least this long show a progress bar by default."""
RESOLUTIONS = ("auto", "full", "envelope")
RELAXATION_SAMPLE_MIN = 360.0
"""Spacing of the samples of a simulated period over which envelope following averages each slow state's own
relaxation rate (the rates move with meals and sleep by tens of percent, with the slow states far less). Every 6 h
instead of 3 h halved a sweep run's share of Jacobian diagonals (about a tenth of a control-arm run) and moved no
shipped scenario's or cohort patient's integrated days, crossings or yearly markers beyond the envelope's own
step-to-step differences (largest yearly difference 0.52 %, from 0.62 %)."""
RELAXATION_SAMPLES = 12
"""Most samples of a stretch taken for that average (each costs one right-hand side per state): a week is sampled
every 14 h, at a different time of day each day."""


OFFSET_SAMPLES = 12
"""Outputs of a period (evenly spaced: every 2 h of a day) at which envelope following resamples the right-hand side
to take away the part of the period's slopes owed to its start off the periodic orbit."""


class ResolutionError(GlucosimError, ValueError):
    """``simulate``'s resolution is not one of ``RESOLUTIONS``."""


ENVELOPE_MIN_DAYS = 365
"""Runs at least this long use envelope following under ``resolution="auto"``."""


def _output_times(program: ScenarioProgram, first_day: int, plans, end_min: float) -> np.ndarray:
    start = first_day * MINUTES_PER_DAY
    stop = min((first_day + len(plans)) * MINUTES_PER_DAY, end_min)
    grid = np.arange(start, stop + 0.5 * OUTPUT_STEP_MIN, OUTPUT_STEP_MIN)
    grid = grid[grid <= stop]
    samples = []
    for k, plan in enumerate(plans):
        midnight = (first_day + k) * MINUTES_PER_DAY
        samples.append(midnight + plan.fasting_sample_min)
        if math.isfinite(plan.postmeal_sample_min):
            samples.append(midnight + plan.postmeal_sample_min)
    samples = np.array(samples)
    samples = samples[samples <= stop]
    return np.union1d(np.append(grid, stop), samples)


def _trajectory(t, y, segment, drivers, p, day: int):
    import pandas as pd

    rows = (t >= day * MINUTES_PER_DAY) & (t <= (day + 1) * MINUTES_PER_DAY)
    fluxes = organ_fluxes()(y[rows], drivers[segment[rows]], p)
    # the columns are gathered first and framed once: inserting ~50 columns one by one into a DataFrame cost
    # 46 ms a day kept, a tenth of a 3-year sweep run's time
    columns: dict[str, np.ndarray] = {"time_min": t[rows], "clock_h": (t[rows] - day * MINUTES_PER_DAY) / 60.0}
    states = y[rows]
    columns.update({name: states[:, i] for i, name in enumerate(STATE_NAMES[:FIRST_QUADRATURE])})
    columns.update({name: fluxes[:, i] for i, name in enumerate(FLUX_NAMES)})
    columns["exercise_intensity_pct"] = drivers[segment[rows], Drv.exercise_intensity_pct]
    return pd.DataFrame(columns)


class DayStepper:
    """Full-resolution integration of stretches of whole days, carrying the solver's state between calls.

    Each call integrates ``n_days`` from a midnight state and returns the
    daily-table rows of those days; it keeps the requested 5-minute
    trajectories and midnight states on the way and sums the work counters.
    Consecutive calls continue with the last step size and the last meal, so
    splitting a run into stretches does not change its steps.
    """

    def __init__(self, program: ScenarioProgram, integrator, tolerances, keep=(), state_days=()):
        self.program = program
        self.integrator = integrator
        self.tolerances = tolerances
        self.keep = set(keep)
        self.state_days = set(state_days)
        self.record_all_midnights = False  # envelope following interpolates requested days between them
        # envelope following takes each simulated period's rows as DailySamples and computes the table once at the end
        self.defer_rows = False
        self._counters = np.zeros(len(SolverStats(0, 0, 0).as_tuple()), dtype=np.int64)
        self._schedules: dict[tuple, tuple] = {}
        self._sample_rows: dict[tuple, np.ndarray] = {}  # the rows sampled by the two below, per stretch length
        self.trajectories: dict[int, object] = {}
        self.midnight_states: dict[int, np.ndarray] = {}
        self.simulated_days = 0

    def mean_relaxation(self, states: np.ndarray, every_min: float = RELAXATION_SAMPLE_MIN) -> np.ndarray:
        """The own relaxation rates (1/day, <= 0) of ``states`` (indices; the other entries are 0) averaged over the
        last stretch integrated: the diagonal of the right-hand side's Jacobian sampled every ``every_min`` minutes
        (envelope following's exponential step integrates it exactly)."""
        y, segment, drivers = self._last
        key = ("relaxation", len(y), every_min)
        rows = self._sample_rows.get(key)
        if rows is None:
            # at most RELAXATION_SAMPLES samples: a week is sampled every 14 h, at a different time of day each day
            spacing = max(every_min, len(y) * OUTPUT_STEP_MIN / RELAXATION_SAMPLES)
            rows = np.arange(0, len(y) - 1, max(1, int(spacing // OUTPUT_STEP_MIN)), dtype=np.int64)
            self._sample_rows[key] = rows
        rates = organ_mean_relaxation()(y, segment, drivers, rows, self.program.parameters, states)
        return rates * MINUTES_PER_DAY

    def offset_bias(self, delta0: np.ndarray, rates: np.ndarray, samples: int = OFFSET_SAMPLES) -> np.ndarray:
        """How much of each state's mean slope (per day) over the last stretch integrated is owed to its start off
        the periodic orbit by ``delta0``, decaying as ``exp(rates * t)`` (``rates`` per day): the right-hand side
        along the stretch's trajectory less the same with the offset taken away, averaged over ``samples``
        evenly spaced outputs (envelope following's correction of a period it did not settle first)."""
        y, segment, drivers = self._last
        key = ("offset", len(y), samples)
        rows = self._sample_rows.get(key)
        if rows is None:
            rows = self._sample_rows[key] = np.linspace(0, len(y) - 2, samples).astype(np.int64)
        bias = organ_offset_bias()(
            y, segment, drivers, self._last_t, rows, self.program.parameters, delta0, rates / MINUTES_PER_DAY
        )
        return bias * MINUTES_PER_DAY

    @property
    def work(self) -> SolverStats:
        """Work counters summed over every call so far."""
        return SolverStats(*(int(count) for count in self._counters))

    def _schedule(self, first_day: int, n_days: int, plans) -> tuple[Schedule, np.ndarray]:
        """The schedule and output times of days ``first_day`` .. ``first_day + n_days - 1``.

        Envelope following integrates the same period of a repeating routine hundreds of times: the schedule
        (and output grid) of a stretch is made once per sequence of day plans and shifted to its days after
        that. The run's last (possibly partial) day is always made afresh.
        """
        program = self.program
        offset = first_day * MINUTES_PER_DAY
        if (first_day + n_days) * MINUTES_PER_DAY > program.end_min:
            schedule = program.schedule(first_day, n_days)
            return schedule, _output_times(program, first_day, plans, program.end_min)
        key = tuple(program.plan_key(day) for day in range(first_day, first_day + n_days))
        cached = self._schedules.get(key)
        if cached is None:
            schedule = program.schedule(first_day, n_days)
            t_out = _output_times(program, first_day, plans, program.end_min)
            cached = self._schedules[key] = (schedule.shifted(-offset), t_out - offset)
        template, t_out = cached
        return template.shifted(offset), t_out + offset

    def run(
        self, y: np.ndarray, first_day: int, n_days: int, keep: bool = True
    ) -> tuple[dict | DailySamples, np.ndarray]:
        """Integrate days ``first_day`` .. ``first_day + n_days - 1`` from midnight state ``y``.

        ``keep=False`` only integrates (envelope following's settling pass, which is simulated again): no
        daily rows, trajectories or midnight states.

        Returns:
            (daily-table columns of those days, or what they are computed from if ``defer_rows``, or {} without
            ``keep``; state at the following midnight).
        """
        program, p = self.program, self.program.parameters
        plans = [program.day_plan(day) for day in range(first_day, first_day + n_days)]
        schedule, t_out = self._schedule(first_day, n_days, plans)
        y = y.copy()
        y[QUADRATURES] = 0.0
        result = integrate_schedule(self.integrator, schedule, y, p, t_out, self.tolerances, STATE_NAMES)
        # the next stretch starts with this one's last step size, so splitting does not change the steps
        self.tolerances = dataclasses.replace(self.tolerances, h_init=result.h_next)
        self._counters += result.stats.as_tuple()
        self._last = (result.y, result.segment, schedule.drivers)
        self._last_t = result.t
        self.simulated_days += n_days
        if not keep:
            return {}, result.y_final.copy()
        samples = daily_samples(
            first_day, plans, result.t, result.y, result.segment, schedule.drivers, p, program.end_min
        )
        columns = samples if self.defer_rows else samples.columns()
        for day in sorted(d for d in self.keep if first_day <= d < first_day + n_days):
            self.trajectories[day] = _trajectory(result.t, result.y, result.segment, schedule.drivers, p, day)
        wanted = range(first_day, first_day + n_days + 1) if self.record_all_midnights else self.state_days
        for day in (d for d in wanted if first_day <= d <= first_day + n_days):
            row = np.searchsorted(result.t, day * MINUTES_PER_DAY)
            if row < len(result.t) and result.t[row] == day * MINUTES_PER_DAY:
                self.midnight_states[day] = result.y[row].copy()
        return columns, result.y_final.copy()


def continue_from_state(loaded: LoadedScenario, state: np.ndarray, n_days: int, first_day: int = 0) -> np.ndarray:
    """The state at the midnight ``n_days`` after ``state``: days ``first_day`` .. ``first_day + n_days - 1`` of
    ``loaded`` (its routine and its parameters) integrated from ``state``, at full resolution.

    ``simulate`` starts every run adapted to its own parameters; this starts from a state reached under other
    ones, so a parameter changes in one step at a midnight: e.g. a healthy subject's state given three days of a
    lower insulin sensitivity (calibration.measure.ivgtt_after_sensitivity_step: Matsumoto 1996's dexamethasone).
    Nothing is checked on the way: a failed integration raises SolverError (naming the time and state), as in
    ``simulate``.
    """
    if n_days < 1:
        raise ValueError(f"n_days must be at least 1, not {n_days}")
    if first_day < 0:
        raise ValueError(f"first_day must be 0 or later, not {first_day}")
    if len(state) != len(STATE_NAMES):
        raise ValueError(f"state has {len(state)} entries; the model has {len(STATE_NAMES)} states")
    program = ScenarioProgram(loaded)
    if first_day + n_days > program.n_days:
        raise ValueError(f"days {first_day}..{first_day + n_days - 1} are not within the scenario's {program.n_days}")
    stepper = DayStepper(program, organ_integrator(), default_tolerances())
    _, y = stepper.run(np.asarray(state, dtype=float), first_day, n_days, keep=False)
    return y


def simulate(
    scenario: LoadedScenario | str | Path,
    *,
    progress: bool | None = None,
    rtol: float | None = None,
    chunk_days: int = CHUNK_DAYS,
    trajectory_days: tuple[int, ...] = (),
    state_days: tuple[int, ...] = (),
    landing_days: tuple[int, ...] = (),
    until_day: int | None = None,
    method: str = "dopri5",
    resolution: str = "auto",
    envelope_settings: EnvelopeSettings | None = None,
) -> SimulationResult:
    """Run a scenario end to end (its scheduled clinic visits are run above: ``glucosim.clinic.visits``).

    Main arguments:
        scenario: a path to a scenario TOML file, or a ``LoadedScenario``.

    Other arguments:
        progress: show a progress bar (default: for runs of a year or more).
        rtol: relative tolerance of the integrator (default: ``DEFAULT_RTOL`` at full resolution,
            ``EnvelopeSettings.period_rtol`` for the periods envelope following simulates).
        chunk_days: days per call of the compiled core (does not change results).
        trajectory_days: days (0-based) whose 5-minute trajectories to keep,
            besides the first and last day and those the scenario names.
        state_days: days whose full state at midnight (start of the day) to keep,
            e.g. to run a clinic protocol on the subject as it is then.
        landing_days: days whose midnight state must be simulated, never interpolated, under envelope
            following (a clinic visit's day); at full resolution every day is.
        until_day: stop at the midnight that starts this day (a shorter run).
        method: the registered solver method (``glucosim.solver.method_names()``),
            recorded in the provenance.
        resolution: ``"full"`` integrates every day; ``"envelope"`` follows the
            slow states' envelope in multi-day steps (``simulation.envelope``;
            rows not simulated are flagged in the daily table's ``interpolated``
            column); ``"auto"`` (default) uses the envelope for runs of at least
            ``ENVELOPE_MIN_DAYS`` days.
        envelope_settings: error control of envelope following (default ``EnvelopeSettings()``).

    Returns:
        A ``SimulationResult`` with the daily table, the yearly summary, the
        kept trajectories and the provenance.

    Raises:
        ScenarioError: the scenario file is invalid.
        SolverError: the integration failed (names the time and state).
        UnknownMethodError: ``method`` is not a registered solver method.
    """
    get_method(method)
    loaded = scenario if isinstance(scenario, LoadedScenario) else load_scenario(scenario)
    program = ScenarioProgram(loaded)
    p = program.parameters
    n_days = program.n_days if until_day is None else max(1, min(program.n_days, until_day))
    keep = set(trajectory_days) | set(loaded.scenario.output.trajectory_days) | {0, n_days - 1}
    keep = {day for day in keep if 0 <= day < n_days}
    if progress is None:
        progress = n_days >= PROGRESS_MIN_DAYS

    if resolution not in RESOLUTIONS:
        raise ResolutionError(f"resolution {resolution!r} is not one of: {', '.join(RESOLUTIONS)}")
    if resolution == "auto":
        resolution = "envelope" if n_days >= ENVELOPE_MIN_DAYS else "full"
    envelope_settings = envelope_settings or EnvelopeSettings()
    if rtol is None:
        rtol = DEFAULT_RTOL if resolution == "full" else envelope_settings.period_rtol

    started = time.perf_counter()
    y = initial_state(program)
    y0 = y.copy()
    stepper = DayStepper(program, organ_integrator(method), default_tolerances(rtol), keep, state_days)
    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=n_days, unit="day", desc=loaded.scenario.name[:40], leave=False)
    solver_info: dict[str, object] = {"method": method, "resolution": resolution}
    try:
        if resolution == "full":
            columns: dict[str, list] = {}
            for first_day in range(0, n_days, chunk_days):
                n_chunk = min(chunk_days, n_days - first_day)
                chunk, y = stepper.run(y, first_day, n_chunk)
                assert isinstance(chunk, dict)  # full resolution computes each chunk's rows as it goes
                for name, values in chunk.items():
                    columns.setdefault(name, []).append(values)
                if bar is not None:
                    bar.update(n_chunk)
            daily = {name: np.concatenate(parts) for name, parts in columns.items()}
            daily["interpolated"] = np.zeros(n_days, dtype=bool)
        else:
            from glucosim.physiology.indices import SLOW_STATES

            slow = np.isin(STATE_NAMES, SLOW_STATES)  # the state table's slow states: the envelope's
            drivers = program.schedule(0, 1).drivers[0]
            relaxation = relaxation_rates(organ_jacobian_diagonal(), y, drivers, p)
            exponential = slow & ~glucose_loop_states(organ_rhs(), y, drivers, p)
            landmarks = set(keep) | set(landing_days)
            stepper.record_all_midnights = True
            stepper.defer_rows = True
            reached = [0]

            def tick(day):
                if bar is not None:
                    bar.update(day - reached[0])
                reached[0] = day

            daily, y, envelope = follow_envelope(
                stepper, y, n_days, landmarks, slow, relaxation, envelope_settings, tick, exponential
            )
            solver_info.update(envelope.as_dict())
    finally:
        if bar is not None:
            bar.close()
    trajectories, midnight_states, work = stepper.trajectories, stepper.midnight_states, stepper.work

    return build_result(
        loaded=loaded,
        program=program,
        daily_columns=daily,
        trajectories=trajectories,
        initial_state=y0,
        final_state=y,
        midnight_states=midnight_states,
        stats=work,
        solver_info=solver_info,
        rtol=rtol,
        wall_time_s=time.perf_counter() - started,
    )
