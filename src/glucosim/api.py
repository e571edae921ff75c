"""What-if runs from Python: a scenario from anywhere, with a few things changed.

``simulate`` and ``load_scenario`` take a scenario as a file path, a shipped
scenario name, a dict (as read from TOML) or an already loaded scenario, plus
overrides by name::

    glucosim.simulate("03_insulin_resistance_low_reserve", duration_years=5, insulin_sensitivity_whole_body=0.5)

An override is resolved in this order:

- ``duration_years``, ``duration_days``, ``duration_hours``: replace the run's
  length. A shorter run drops clinic visits and changes after its end, with a
  warning that says which.
- a subject field (``preset``, ``beta_cell_reserve``, ``body_weight_kg``,
  ``start_adapted``, ``insulin_sensitivity_liver``, ...);
- a routine field with one value (``sleep_h``, ``carbs_scale``,
  ``energy_surplus_kcal_per_day``, ``cortisol_rel``);
- a parameter by its name in the parameter table (``glucosim parameters``),
  checked against the table's plausible range and unit;
- a whole table (``subject={...}``, ``routine={...}``, ``output={...}``):
  merged key by key; lists (meals, exercise, changes, clinic) are replaced whole;
- ``name`` or ``description``.

Anything else is an error naming the closest valid names.
"""

from __future__ import annotations

import copy
import math
import numbers
import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the heavy modules load on first use
    from glucosim.scenario.load import LoadedScenario
    from glucosim.scenario.schema import Scenario
    from glucosim.simulation.result import SimulationResult

ROUTINE_SCALARS = ("sleep_h", "carbs_scale", "energy_surplus_kcal_per_day", "cortisol_rel")
TABLES = ("subject", "routine", "output")


def _base(scenario) -> tuple[dict | None, Any, str, str]:
    """(data or None, loaded or None, source, text) of any accepted form of scenario."""
    from glucosim._resources import scenario_path
    from glucosim._toml import read_toml_file
    from glucosim.errors import ScenarioError
    from glucosim.scenario.load import SCENARIO_EXPECTED, LoadedScenario
    from glucosim.scenario.messages import check_input_file
    from glucosim.scenario.schema import Scenario

    if isinstance(scenario, LoadedScenario):
        return None, scenario, scenario.source, scenario.text
    if isinstance(scenario, Scenario):
        return scenario.model_dump(exclude_none=True), None, "<scenario>", ""
    if isinstance(scenario, Mapping):
        return copy.deepcopy(dict(scenario)), None, "<dict>", ""
    if isinstance(scenario, (str, Path)):
        try:
            path = scenario_path(scenario)
        except ScenarioError:
            check_input_file(scenario, "scenario", SCENARIO_EXPECTED, ScenarioError)  # a folder is named as one
            raise
        check_input_file(path, "scenario", SCENARIO_EXPECTED, ScenarioError)
        data, text = read_toml_file(path, ScenarioError, "scenario")
        return data, None, str(path), text
    raise ScenarioError(
        f"scenario: expected a file path, a shipped scenario name, a dict or a loaded scenario, "
        f"got {type(scenario).__name__}"
    )


def _n_days(duration: dict, where: str) -> int:
    """Days of a run of ``duration`` (the duration fields of a scenario); a bad one is a ScenarioError naming
    ``where`` and the field (``--set duration_days=0`` was a pydantic traceback)."""
    from pydantic import ValidationError

    from glucosim.errors import ScenarioError
    from glucosim.scenario.load import format_validation_error
    from glucosim.scenario.schema import Scenario

    try:
        return Scenario.model_validate({"name": "duration", **duration}).n_days
    except ValidationError as exc:
        raise ScenarioError(format_validation_error(where, exc)) from None


def _number(value) -> bool:
    """A real number (not a boolean; numpy's scalars included): the only kind of day or year worth comparing before
    validation (np.int64(3), as numpy code gives a day, was refused as "not a day")."""
    return isinstance(value, numbers.Real) and not isinstance(value, bool) and math.isfinite(value)


def _plain(value):
    """``value`` with numpy's scalars (np.int64, np.float64, np.bool_) as the Python numbers they hold, inside lists,
    tuples and dicts too: the scenario's validation takes Python numbers (duration_days=np.int64(3) was refused as
    "Input should be a valid integer")."""
    if isinstance(value, Mapping):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        items = [_plain(item) for item in value]
        return items if isinstance(value, list) else tuple(items)  # a namedtuple's type takes no iterable
    item = getattr(value, "item", None)
    if item is not None and type(value).__module__ == "numpy" and getattr(value, "ndim", None) == 0:
        return item()
    return value


def _drop_after_end(data: dict, where: str) -> None:
    """Drop clinic visits, changes and kept trajectory days after the end of a run shortened by an override, and say
    so."""
    from glucosim.physiology.units import DAYS_PER_YEAR
    from glucosim.scenario.schema import DURATION_FIELDS, Scenario

    n_days = _n_days({key: data[key] for key in DURATION_FIELDS if key in data}, where)
    # the data are not validated yet: only well-formed visits and changes are dropped, anything else is left for
    # the schema to report (a from_year of "2" was a TypeError here)
    dropped = []
    visits = []
    # a loaded scenario's model_dump() holds tuples where a file's data hold lists: both are trimmed (only lists
    # were, and export-sbml --days of a scenario with a later change failed on the change)
    clinic = data.get("clinic", [])
    for visit in clinic if isinstance(clinic, (list, tuple)) else []:
        years = visit.get("at_years") if isinstance(visit, dict) else None
        if not isinstance(years, (list, tuple)):
            visits.append(visit)
            continue
        late = [_number(year) and Scenario.visit_day(year) >= n_days for year in years]
        dropped += [f"clinic visit {visit.get('protocol')} at year {year:g}" for year, gone in zip(years, late) if gone]
        kept = [year for year, gone in zip(years, late) if not gone]
        if kept:
            visits.append({**visit, "at_years": kept})
    if isinstance(clinic, (list, tuple)) and "clinic" in data:
        data["clinic"] = visits
    changes = []
    listed = data.get("changes", [])
    for change in listed if isinstance(listed, (list, tuple)) else []:
        day, year = (change.get("from_day"), change.get("from_year")) if isinstance(change, dict) else (None, None)
        start = day if _number(day) else round(year * DAYS_PER_YEAR) if _number(year) and day is None else None
        if start is None or start < n_days:
            changes.append(change)
        else:
            dropped.append(f"change '{change.get('label', '')}' from day {start:g}")
    if isinstance(listed, (list, tuple)) and "changes" in data:
        data["changes"] = changes
    output = data.get("output")
    trajectory = output.get("trajectory_days") if isinstance(output, dict) else None
    if isinstance(trajectory, (list, tuple)):  # scenario 30 kept days 0-4: --days 2 failed on day 2
        # only whole days: anything else is left for the schema to report
        late = [day for day in trajectory if _number(day) and float(day).is_integer() and day >= n_days]
        if late:
            dropped.append(f"output.trajectory_days {', '.join(f'{day:g}' for day in late)}")
            data["output"] = {**output, "trajectory_days": [day for day in trajectory if day not in late]}
    if dropped:
        warnings.warn(
            f"{where}: the run now ends after day {n_days - 1}; dropped: {'; '.join(dropped)}",
            UserWarning,
            stacklevel=4,
        )


def _apply(data: dict, overrides: Mapping[str, Any], where: str) -> dict:
    from glucosim.errors import ScenarioError
    from glucosim.parameters import load_parameter_table
    from glucosim.scenario.load import merge_scenario_data
    from glucosim.scenario.schema import (
        DEPRECATED_SUBJECT_FIELDS,
        DURATION_FIELDS,
        SHORTHAND_PARAMETERS,
        Scenario,
        Subject,
    )

    table = load_parameter_table()
    subject_fields = set(Subject.model_fields) - {"parameters"}
    data = dict(data)
    if any(key in overrides for key in DURATION_FIELDS):
        data = {key: value for key, value in data.items() if key not in DURATION_FIELDS}
    # a parameter set twice under two names (body_weight=60 and body_weight_kg=90, or a deprecated alias and its
    # new name) is an error: the subject's parameters table would silently win over the field
    sets_parameter: dict[str, str] = {}  # parameter-table name -> the override that sets it
    for key in overrides:
        name = DEPRECATED_SUBJECT_FIELDS.get(key, key)
        parameter = SHORTHAND_PARAMETERS.get(name, name if name in table else None)
        if parameter is None:
            continue
        if parameter in sets_parameter:
            raise ScenarioError(
                f"{where}: overrides {sets_parameter[parameter]!r} and {key!r} both set the parameter "
                f"{parameter!r}; give one"
            )
        sets_parameter[parameter] = key
    for key, value in overrides.items():
        if key in DEPRECATED_SUBJECT_FIELDS:
            new = DEPRECATED_SUBJECT_FIELDS[key]
            warnings.warn(f"{key} is deprecated; use {new} (the parameter table's name)", DeprecationWarning, 3)
            key = new
        if key in DURATION_FIELDS or key in ("name", "description"):
            data[key] = value
        elif key in TABLES or (key in Scenario.model_fields and isinstance(value, Mapping)):
            if not isinstance(value, Mapping):
                raise ScenarioError(f"{where}: override {key}: give a dict of fields, got {value!r}")
            data = merge_scenario_data(data, {key: value})
        elif key in Scenario.model_fields:  # changes, clinic: replaced whole
            data[key] = copy.deepcopy(value)
        elif key in subject_fields:
            data = merge_scenario_data(data, {"subject": {key: value}})
            parameter = SHORTHAND_PARAMETERS.get(key)
            subject = data.get("subject")
            file_parameters = subject.get("parameters") if isinstance(subject, dict) else None
            if isinstance(file_parameters, dict) and parameter in file_parameters:
                # the scenario's own subject.parameters would win over the field: the override sets it there too
                # (--set insulin_sensitivity_whole_body=0.5 on a scenario that sets it in parameters did nothing)
                data = merge_scenario_data(data, {"subject": {"parameters": {parameter: value}}})
        elif key in ROUTINE_SCALARS:
            data = merge_scenario_data(data, {"routine": {key: value}})
        elif key in table:
            data = merge_scenario_data(data, {"subject": {"parameters": {key: value}}})
        else:
            import difflib

            known = list(dict.fromkeys([*DURATION_FIELDS, *subject_fields, *ROUTINE_SCALARS, *Scenario.model_fields]))
            known += list(table.names)
            close = difflib.get_close_matches(key, known, n=3)
            hint = f"; did you mean {', '.join(close)}?" if close else ""
            raise ScenarioError(
                f"{where}: unknown override {key!r}{hint} (a duration, a subject or routine field, "
                f"a parameter name from `glucosim parameters`, or a table: subject, routine, output)"
            )
    if any(key in overrides for key in DURATION_FIELDS):
        _drop_after_end(data, where)
    _warn_of_changes_that_set_again(data, overrides, where)
    return data


def _warn_of_changes_that_set_again(data: dict, overrides: Mapping[str, Any], where: str) -> None:
    """Say so when an override of the starting routine is set again by one of the scenario's changes.

    A change sets its fields from its day on, so ``--set sleep_h=9`` on scenario 05, whose change moves sleep to
    5.5 h from year 2, ran 18 of its 20 years at 5.5 h under a name that said 9 h (bad-input hunt, 2026-12-05).
    """
    routine = overrides.get("routine")
    fields = [key for key in overrides if key in ROUTINE_SCALARS]
    fields += list(routine) if isinstance(routine, Mapping) else []
    listed = data.get("changes")
    if not fields or not isinstance(listed, (list, tuple)):
        return
    again = []
    for change in listed:
        if not isinstance(change, Mapping):
            continue  # left for the schema to report
        unit = "day" if change.get("from_day") is not None else "year"
        start = change.get(f"from_{unit}")
        label = change.get("label") or ""
        # a field given as None sets nothing (a model_dump() without exclude_none carries them)
        again += [
            f"{field} (change '{label}' from {unit} {start})" for field in fields if change.get(field) is not None
        ]
    if again:
        warnings.warn(
            f"{where}: the override sets the starting routine, and the scenario's changes set it again from their "
            f"day on: {'; '.join(again)}. To set it throughout, edit those changes (in Python, changes=[] drops them)",
            UserWarning,
            stacklevel=4,
        )


def _label(overrides: Mapping[str, Any]) -> str:
    shown = [f"{key}={value:g}" for key, value in overrides.items() if isinstance(value, (int, float))]
    return f" [{', '.join(shown)}]" if shown else " (variant)"


def load_scenario(scenario: str | Path | Mapping | Scenario | LoadedScenario, /, **overrides: Any) -> LoadedScenario:
    """A validated scenario, optionally with some things changed.

    **Main arguments:**

    - `scenario`: a scenario file path, a shipped scenario name
      (`glucosim scenarios` lists them, e.g. `"03_insulin_resistance_low_reserve"`),
      a dict with the file's structure, a `Scenario`, or a `LoadedScenario`.

    **Other arguments:**

    - `**overrides`: changes by name, e.g. `duration_years=5`,
      `insulin_sensitivity_whole_body=0.5`, `sleep_h=6`, `routine={"meals": [...]}`
      (see the module docstring of `glucosim.api` for how names resolve).
      With overrides the scenario's name gets them appended unless `name=` is given.

    **Returns:**

    A frozen `LoadedScenario`; its parameters are derived from its fields.

    **Raises:**

    - `ScenarioError`: unknown file or name, unknown override, or an invalid
      result (the message names the field, its allowed values, and for a
      parameter its unit and plausible range).
    """
    from glucosim.errors import ScenarioError
    from glucosim.scenario.load import parse_scenario
    from glucosim.scenario.text import to_toml

    data, loaded, source, text = _base(scenario)
    overrides = {name: _plain(value) for name, value in overrides.items()}
    if not overrides:
        if loaded is not None:
            return loaded
        if not text:  # a dict or Scenario: give it a text that reproduces it when saved
            text = to_toml(parse_scenario(data, source=source).scenario.model_dump(exclude_none=True))
        return parse_scenario(data, source=source, text=text)
    original = data  # as written (_apply builds a new dict, parse_scenario reads only); None: loaded, so valid
    if data is None:
        data = loaded.scenario.model_dump(exclude_none=True)
    data = _apply(data, overrides, source)
    if "name" not in overrides:
        data["name"] = f"{data.get('name', Path(source).stem)}{_label(overrides)}"
    try:
        loaded = parse_scenario(data, source=source)
    except ScenarioError as error:
        unchanged_fails = False
        if original is not None:  # a file or dict that is invalid as written: its own error, no word of the changes
            try:
                parse_scenario(original, source=source)
            except ScenarioError:
                unchanged_fails = True
        if unchanged_fails:
            raise
        # valid as written: say which changes made it invalid (`--set` gives these); tables by name only
        changed = ", ".join(
            f"{name}={value!r}" if not isinstance(value, (dict, list, tuple)) else f"{name}=..."
            for name, value in overrides.items()
        )
        raise ScenarioError(f"{error}\n  (with the changes {changed})") from None
    # saved results carry this text as scenario.toml: it must reproduce the changed scenario, not the file
    text = f"# {Path(source).name} with changes made in Python\n" + to_toml(
        loaded.scenario.model_dump(exclude_none=True)
    )
    return parse_scenario(data, source=source, text=text)


RTOL_RANGE = (1e-12, 0.01)
"""Relative tolerances ``simulate`` takes: below 1e-12 the steps approach floating-point resolution; above 0.01 the
step control lets the fast insulin and secretion states go unstable (0.05 and 0.1, which this range allowed until
2026-12-05, failed with a non-finite state on scenarios 03 and 32, where 0.02 still ran: a bad-input hunt). rtol = -1
or NaN once ran into a solver failure that named neither the option nor a range."""


def _check_run_options(loaded, rtol, until_day, day_lists: dict, chunk_days=None) -> None:
    """Refuse run options that are out of range, naming the scenario, the option and what is allowed."""
    from glucosim.errors import ScenarioError

    n_days = loaded.scenario.n_days
    where = loaded.source
    low, high = RTOL_RANGE
    if rtol is not None and not (_number(rtol) and low <= rtol <= high):
        raise ScenarioError(f"{where}: rtol: {rtol!r} is not a relative tolerance; allowed: {low:g} to {high:g}")

    def whole(value) -> bool:
        return _number(value) and float(value).is_integer()

    if until_day is not None and not (whole(until_day) and until_day >= 1):
        # until_day = -1 or 0 silently ran one day; a day past the end runs the whole scenario (a cap, as documented)
        raise ScenarioError(
            f"{where}: until_day: {until_day!r} is not a day to stop at; allowed: whole days from 1 (the run has "
            f"{n_days})"
        )
    if chunk_days is not None and not (whole(chunk_days) and chunk_days >= 1):
        # 0, -5, 1.5, '2' and NaN raised ValueError, KeyError or TypeError from inside the run
        raise ScenarioError(f"{where}: chunk_days: {chunk_days!r} is not a number of days; allowed: whole days from 1")
    for name, days in day_lists.items():
        if isinstance(days, (str, bytes)) or not hasattr(days, "__iter__"):
            # trajectory_days=5 raised a TypeError from inside the run
            raise ScenarioError(f"{where}: {name}: {days!r} is not a list of days; allowed: e.g. [0, 365]")
        outside = [day for day in days if not (whole(day) and 0 <= day < n_days)]
        if outside:  # were ignored silently
            raise ScenarioError(
                f"{where}: {name}: {outside[0]!r} is not a day of the run; allowed: whole days 0 to {n_days - 1}"
            )


def simulate(
    scenario: str | Path | Mapping | Scenario | LoadedScenario,
    /,
    *,
    progress: bool | None = None,
    method: str | None = None,
    resolution: str | None = None,
    rtol: float | None = None,
    trajectory_days: tuple[int, ...] = (),
    state_days: tuple[int, ...] = (),
    until_day: int | None = None,
    chunk_days: int | None = None,
    **overrides: Any,
) -> SimulationResult:
    """Run a scenario, optionally with some things changed, and return its result.

    **Main arguments:**

    - `scenario`: a scenario file path, a shipped scenario name
      (`glucosim scenarios` lists them), a dict with the file's structure,
      a `Scenario`, or a `LoadedScenario`.
    - `**overrides`: what to change, by name: `duration_years`/`duration_days`,
      subject fields (`beta_cell_reserve`, `insulin_sensitivity_liver`, ...),
      routine values (`sleep_h`, `carbs_scale`, ...), parameters by their table
      name (range-checked), or whole tables (`routine={...}`). See `load_scenario`.

    **Other arguments:**

    - `progress`: show a progress bar (default: for runs of a year or more).
    - `method`: the integration method (default: the solver's default).
    - `resolution`: `"full"` integrates every day; `"envelope"` follows the slow
      states in multi-day steps (rows not integrated are flagged `interpolated`);
      default `"auto"`: envelope for runs of a year or more.
    - `rtol`: relative tolerance of the integrator, 1e-12 to 0.01 (default: 1e-6 at full resolution, 1e-4 for
      the periods envelope following simulates; given, it applies to both).
    - `trajectory_days`: days (0-based) whose 5-minute traces to keep during the run
      (any day can be recomputed afterwards with `result.trace(day)`).
    - `state_days`: days whose full state at midnight to keep.
    - `until_day`: stop at the midnight that starts this day.
    - `chunk_days`: days per call of the compiled core (memory and progress ticks; results do not change).

    **Returns:**

    A `SimulationResult`: `daily` and `yearly` tables, `summary`, `trace(day)`,
    `cgm_metrics(days)`, `plot_progression()`, `plot_day(day)`, `save(dir)` (and `SimulationResult.load(dir)`).

    **Raises:**

    - `ScenarioError`: the scenario or an override is invalid.
    - `SolverError`: the integration failed (names the time and state).

    Example:
        >>> result = glucosim.simulate("03_insulin_resistance_low_reserve", duration_years=5,
        ...                            insulin_sensitivity_whole_body=0.5)
    """
    # scheduled clinic visits run above the simulation (glucosim.clinic.visits)
    from glucosim.clinic.visits import simulate_with_visits as _simulate

    loaded = load_scenario(scenario, **overrides)
    # a generator or other one-pass iterable is read once: the check below used it up and no day was kept
    if not isinstance(trajectory_days, (str, bytes)) and hasattr(trajectory_days, "__iter__"):
        trajectory_days = tuple(trajectory_days)
    if not isinstance(state_days, (str, bytes)) and hasattr(state_days, "__iter__"):
        state_days = tuple(state_days)
    _check_run_options(
        loaded, rtol, until_day, {"trajectory_days": trajectory_days, "state_days": state_days}, chunk_days
    )
    n_days = loaded.scenario.n_days if until_day is None else min(loaded.scenario.n_days, until_day)
    options: dict[str, Any] = {
        "progress": progress,
        "trajectory_days": tuple(trajectory_days),
        "state_days": trace_state_days(n_days, resolution) + tuple(state_days),
        "until_day": until_day,
    }
    if resolution is not None:
        options["resolution"] = resolution
    if method is not None:
        options["method"] = method
    if rtol is not None:
        options["rtol"] = rtol
    if chunk_days is not None:
        options["chunk_days"] = chunk_days
    return _simulate(loaded, **options)


def trace_state_days(n_days: int, resolution: str | None) -> tuple[int, ...]:
    """The midnights whose state a run keeps so that ``result.trace(day)`` can recompute any day.

    A run that integrates every day keeps every midnight (a few dozen numbers a day), so a trace is one
    day of work. A run that follows the envelope (multi-day steps) must land on every kept midnight, so it
    keeps only the first midnight of each year: a trace then integrates from there (at most a year of work),
    in full resolution.
    """
    from glucosim.physiology.units import DAYS_PER_YEAR, year_start_day
    from glucosim.simulation.run import ENVELOPE_MIN_DAYS

    full = resolution == "full" or (resolution in (None, "auto") and n_days < ENVELOPE_MIN_DAYS)
    if full:
        return tuple(range(n_days + 1))
    return tuple(sorted({min(year_start_day(year), n_days) for year in range(int(n_days / DAYS_PER_YEAR) + 2)}))


def available_scenarios() -> list[str]:
    """Names of the shipped scenarios (usable wherever a scenario is asked for)."""
    from glucosim._resources import shipped_scenarios

    return list(shipped_scenarios())


def run_protocol(protocol, subject, day: int = 0, state=None):
    """Run a clinic test (OGTT, IVGTT, clamp, ...) on a subject as it is on the morning of `day`.

    **Main arguments:**

    - `protocol`: a shipped protocol name (`glucosim.available_protocols()`, e.g. `"ogtt_75g"`), a protocol file
      path, or a `LoadedProtocol`.
    - `subject`: a preset name, a scenario file path or shipped name, or a `LoadedScenario`.

    **Other arguments:**

    - `day`: the day of the subject's scenario whose morning the test is done on (0 = its start; whole days,
      numpy's integers included).
    - `state`: the subject's state at midnight of `day`, if already known (e.g.
      `SimulationResult.midnight_states[day]`); otherwise computed.

    **Returns:**

    A `ClinicResult`: the samples and the protocol's indices (`glucosim.clinic.runner.run_protocol`).

    **Raises:**

    - `ClinicError`: `day` is not a whole day from 0, or not a day of the subject's scenario.
    - `ScenarioError`: an unknown protocol or subject.
    """
    import numpy as np

    from glucosim.clinic.protocol import LoadedProtocol, available_protocols
    from glucosim.clinic.runner import run_protocol as run_clinic_protocol
    from glucosim.errors import ClinicError

    # day="3" and day=2.7 raised TypeErrors from inside the run
    if not (_number(day) and float(day).is_integer() and day >= 0):
        raise ClinicError(
            f"day: {day!r} is not a day to test on; allowed: whole days from 0 (0 = the scenario's start)"
        )
    if not isinstance(protocol, (str, Path, LoadedProtocol)):  # None raised a TypeError from os.fspath
        raise ClinicError(
            f"protocol: {protocol!r} is not a protocol; allowed: a shipped name "
            f"({', '.join(available_protocols())}), a protocol file path, or a LoadedProtocol"
        )
    if state is not None:
        try:
            state = np.asarray(state, dtype=float)
        except (TypeError, ValueError):  # state="x" raised numpy's ValueError from inside the run
            raise ClinicError(f"state: {state!r} is not a state (an array of the model's state values)") from None
    return run_clinic_protocol(protocol, clinic_subject(subject), int(day), state)


def clinic_subject(subject):
    """What ``run_protocol`` tests: a preset name as it is, a shipped scenario's name as its file, anything else
    (a scenario file path, a ``LoadedScenario``) as it is.

    Raises ScenarioError for a name that is neither a preset nor a shipped scenario nor a file.
    """
    from glucosim._resources import scenario_path
    from glucosim.errors import ScenarioError
    from glucosim.parameters import available_presets

    if not isinstance(subject, str) or subject in available_presets() or Path(subject).exists():
        return subject
    try:
        return str(scenario_path(subject))  # a shipped scenario's name was taken for an unknown preset
    except ScenarioError as error:
        import difflib

        close = difflib.get_close_matches(subject, available_presets(), n=2)
        hint = f"; or the preset {' or '.join(close)}?" if close else ""
        raise ScenarioError(f"{error}{hint}; a preset is one of {', '.join(available_presets())}") from None
