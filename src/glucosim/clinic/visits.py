"""A scenario's scheduled clinic visits, run above the simulation.

``simulation.run.simulate`` integrates the scenario and keeps the midnight
states it is asked for; the visits are then run here on those states. The
simulation never imports the clinic, and ``run_protocol(day > 0)`` (which
simulates up to its day) never re-runs visits it would throw away.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

from glucosim.clinic.runner import ClinicResult, run_protocol
from glucosim.scenario.load import LoadedScenario, load_scenario
from glucosim.scenario.protocol import load_protocol
from glucosim.simulation.plausibility import check_run, starting_body
from glucosim.simulation.result import SimulationResult
from glucosim.simulation.run import simulate


def scheduled_visits(loaded: LoadedScenario) -> list[tuple[str | Path, int]]:
    """(protocol name or file, day) of each scheduled visit, in the scenario's order.

    A protocol given as a ``.toml`` file next to the scenario is found relative to it, from the folder fixed when
    the scenario was loaded (a notebook that changes its working folder afterwards still finds it).
    """
    base = loaded.source_folder
    visits: list[tuple[str | Path, int]] = []
    for visit in loaded.scenario.clinic:
        local = base / visit.protocol
        target: str | Path = local if local.suffix == ".toml" and local.is_file() else visit.protocol
        visits += [(target, loaded.scenario.visit_day(year)) for year in visit.at_years]
    return visits


def run_scheduled_visits(result: SimulationResult, visits: list[tuple[str | Path, int]]) -> list[ClinicResult]:
    """Run ``visits`` on the result's kept midnight states; visits after the end of a shortened run are skipped."""
    n_days = len(result.daily)
    # each protocol file is read once, however many visits run it
    loaded = {protocol: load_protocol(protocol) for protocol, day in visits if day < n_days}
    return [
        run_protocol(loaded[protocol], result.loaded, day=day, state=result.midnight_states[day])
        for protocol, day in visits
        if day < n_days
    ]


def simulate_with_visits(
    scenario: LoadedScenario | str | Path, *, state_days: tuple[int, ...] = (), **options
) -> SimulationResult:
    """Run a scenario end to end, with its scheduled clinic visits.

    Main arguments:
        scenario: a path to a scenario TOML file, or a ``LoadedScenario``.

    Other arguments:
        state_days: further days whose midnight state to keep.
        **options: as ``glucosim.simulation.run.simulate`` (progress, rtol, chunk_days,
            trajectory_days, until_day).

    Returns:
        The ``SimulationResult``, with ``clinic`` (and ``summary["clinic"]``) holding the visits.
    """
    loaded = scenario if isinstance(scenario, LoadedScenario) else load_scenario(scenario)
    visits = scheduled_visits(loaded)
    visit_days = tuple(day for _, day in visits)
    # landing_days: under envelope following a visit's midnight state is simulated, not interpolated
    result = simulate(loaded, state_days=tuple(state_days) + visit_days, landing_days=visit_days, **options)
    if not visits:
        return result
    clinic = run_scheduled_visits(result, visits)
    summary = {
        **result.summary,
        "clinic": [visit.to_dict() for visit in clinic],
        # the visits' samples are checked too
        "plausibility": check_run(result.daily, clinic, body=starting_body(result.loaded)).to_dict(),
    }
    return dataclasses.replace(result, clinic=clinic, summary=summary)
