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

from glucosim.analysis.daily import daily_rows
from glucosim.physiology.indices import FIRST_QUADRATURE, STATE_NAMES, Drv
from glucosim.physiology.model import FLUX_NAMES
from glucosim.physiology.units import MINUTES_PER_DAY
from glucosim.scenario.compile import OUTPUT_STEP_MIN, ScenarioProgram
from glucosim.scenario.load import LoadedScenario, load_scenario
from glucosim.simulation.initial_state import initial_state, last_meal
from glucosim.simulation.result import SimulationResult, build_result
from glucosim.solver import SolverStats, get_method, integrate_schedule
from glucosim.solver.kernel import DEFAULT_RTOL, default_tolerances, organ_fluxes, organ_integrator

CHUNK_DAYS = 30
"""Days integrated per call of the compiled core. A chunk's 5-minute grid of all states is the run's
largest array (about 2.4 MB a month, 29 MB a year), so a month keeps a 20-year run's own memory at a
few MB above the interpreter's; the call overhead per chunk is well under 1 % of its integration."""
PROGRESS_MIN_DAYS = 365
"""Runs at least this long show a progress bar by default."""


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
    frame = pd.DataFrame(y[rows][:, :FIRST_QUADRATURE], columns=STATE_NAMES[:FIRST_QUADRATURE])
    for i, name in enumerate(FLUX_NAMES):
        frame[name] = fluxes[:, i]
    frame.insert(0, "clock_h", (t[rows] - day * MINUTES_PER_DAY) / 60.0)
    frame.insert(0, "time_min", t[rows])
    frame["exercise_intensity_pct"] = drivers[segment[rows], Drv.exercise_intensity_pct]
    return frame


def simulate(
    scenario: LoadedScenario | str | Path,
    *,
    progress: bool | None = None,
    rtol: float = DEFAULT_RTOL,
    chunk_days: int = CHUNK_DAYS,
    trajectory_days: tuple[int, ...] = (),
    state_days: tuple[int, ...] = (),
    until_day: int | None = None,
    method: str = "dopri5",
) -> SimulationResult:
    """Run a scenario end to end (its scheduled clinic visits are run above: ``glucosim.clinic.visits``).

    Main arguments:
        scenario: a path to a scenario TOML file, or a ``LoadedScenario``.

    Other arguments:
        progress: show a progress bar (default: for runs of a year or more).
        rtol: relative tolerance of the integrator.
        chunk_days: days per call of the compiled core (does not change results).
        trajectory_days: days (0-based) whose 5-minute trajectories to keep,
            besides the first and last day and those the scenario names.
        state_days: days whose full state at midnight (start of the day) to keep,
            e.g. to run a clinic protocol on the subject as it is then.
        until_day: stop at the midnight that starts this day (a shorter run).
        method: the registered solver method (``glucosim.solver.method_names()``),
            recorded in the provenance.

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

    started = time.perf_counter()
    integrator = organ_integrator(method)
    tolerances = default_tolerances(rtol)
    y = initial_state(program)
    y0 = y.copy()
    columns: dict[str, list] = {}
    trajectories = {}
    midnight_states = {}
    work = SolverStats(0, 0, 0)
    dose, speed = last_meal(program.day_plan(0))  # the warm-up ended on day 0's routine

    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=n_days, unit="day", desc=loaded.scenario.name[:40], leave=False)
    try:
        for first_day in range(0, n_days, chunk_days):
            n_chunk = min(chunk_days, n_days - first_day)
            schedule, dose, speed = program.schedule(first_day, n_chunk, last_dose=dose, last_speed=speed)
            plans = [program.day_plan(day) for day in range(first_day, first_day + n_chunk)]
            t_out = _output_times(program, first_day, plans, program.end_min)
            y[FIRST_QUADRATURE:] = 0.0
            result = integrate_schedule(integrator, schedule, y, p, t_out, tolerances, STATE_NAMES)
            # the next chunk starts with this chunk's last step size, so chunking does not change the steps
            tolerances = dataclasses.replace(tolerances, h_init=result.h_next)
            work = work + result.stats
            chunk = daily_rows(
                first_day, plans, result.t, result.y, result.segment, schedule.drivers, p, program.end_min
            )
            for name, values in chunk.items():
                columns.setdefault(name, []).append(values)
            for day in sorted(d for d in keep if first_day <= d < first_day + n_chunk):
                trajectories[day] = _trajectory(result.t, result.y, result.segment, schedule.drivers, p, day)
            for day in (d for d in state_days if first_day <= d <= first_day + n_chunk):
                row = np.searchsorted(result.t, day * MINUTES_PER_DAY)
                if row < len(result.t) and result.t[row] == day * MINUTES_PER_DAY:
                    midnight_states[day] = result.y[row].copy()
            y = result.y_final.copy()
            if bar is not None:
                bar.update(n_chunk)
    finally:
        if bar is not None:
            bar.close()

    daily = {name: np.concatenate(parts) for name, parts in columns.items()}
    return build_result(
        loaded=loaded,
        program=program,
        daily_columns=daily,
        trajectories=trajectories,
        initial_state=y0,
        final_state=y,
        midnight_states=midnight_states,
        stats=work,
        solver_info={"method": method},
        rtol=rtol,
        wall_time_s=time.perf_counter() - started,
    )
