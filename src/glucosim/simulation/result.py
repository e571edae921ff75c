"""The result of a run: daily table, yearly summary, kept trajectories and provenance."""

from __future__ import annotations

import datetime
import platform
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from glucosim.errors import ResultError
from glucosim.physiology.indices import STATE_NAMES
from glucosim.physiology.units import DAYS_PER_YEAR, year_start_day
from glucosim.scenario.compile import ScenarioProgram
from glucosim.scenario.load import LoadedScenario
from glucosim.simulation import markers
from glucosim.simulation.plausibility import check_run, starting_body
from glucosim.solver import SolverStats

MIDNIGHT_STATES_FILE = "midnight_states.npz"
"""The state at each kept midnight, written next to the tables so figures and traces need no new run."""

YEARLY_WINDOW_DAYS = 7
"""Yearly values average the last week of each year, so weekly routines (exercise days) do not alias."""

YEARLY_COLUMNS = (
    "fasting_glucose_mg_dl",
    "fasting_insulin_uU_ml",
    "homa_ir",
    "homa_b",
    "hba1c_percent",
    "postmeal_2h_glucose_mg_dl",
    "mean_glucose_mg_dl",
    "fasting_nefa_mmol_l",
    "beta_cell_mass_rel",
    "beta_cell_function_rel",
    "insulin_sensitivity_rel",
    "insulin_sensitivity_liver_rel",
    "insulin_sensitivity_muscle_rel",
    "insulin_sensitivity_adipose_rel",
    "weight_change_kg",
)


@dataclass
class SimulationResult:
    """Everything a run produced.

    Attributes:
        daily: one row per simulated day (pandas DataFrame; columns in the README, "Outputs").
        yearly: one row per year boundary, year 0 = start (DataFrame).
        summary: the content of summary.json (dict).
        trajectories: day -> 5-minute trajectory kept during the run, as the solver wrote it
            (insulin in pmol/l); ``trace(day)`` gives any day in the daily table's units.
        loaded: the scenario as loaded.
        stats: solver work counters.
        midnight_states: day -> full state at that midnight, from which ``trace`` recomputes a day: every
            midnight when run through ``glucosim.simulate`` at full resolution, the first of each year when it
            follows the envelope (``glucosim.api.trace_state_days``).
    """

    daily: Any
    yearly: Any
    summary: dict
    trajectories: dict
    loaded: LoadedScenario
    stats: SolverStats
    change_days: list = field(default_factory=list)
    initial_state: np.ndarray | None = None
    final_state: np.ndarray | None = None
    midnight_states: dict = field(default_factory=dict)
    clinic: list = field(default_factory=list)
    _traces: dict = field(default_factory=dict, repr=False, compare=False)
    _tracer: Any = field(default=None, repr=False, compare=False)

    @property
    def name(self) -> str:
        """The scenario's name."""
        return self.loaded.scenario.name

    @property
    def n_days(self) -> int:
        """Days in the run (rows of ``daily``)."""
        return len(self.daily)

    def parameter(self, name: str) -> float:
        """The value of parameter ``name`` (its table name) in this run, after preset and overrides."""
        from glucosim.parameters import load_parameter_table
        from glucosim.physiology.indices import Par

        load_parameter_table()[name]  # raises ParameterError naming close matches
        return float(self.loaded.parameters[Par[name]])

    def _check_day(self, day) -> int:
        if isinstance(day, bool) or not isinstance(day, (int, np.integer)):
            raise ResultError(f"day must be an integer from 0 to {self.n_days - 1}, got {day!r}")
        if not 0 <= day < self.n_days:
            raise ResultError(f"day {day} is outside the run: it has days 0 to {self.n_days - 1}")
        return int(day)

    def trace(self, day: int):
        """The 5-minute trace of ``day`` (0-based), midnight to midnight, in the daily table's units.

        **Main arguments:**

        - `day`: any day of the run. A day kept during the run is returned as kept; any
          other is recomputed from the state stored at the nearest midnight before it. A run that
          integrates every day (`resolution="full"`, or `"auto"` under a year) stores every midnight: one
          day of work. One that follows the envelope (`"auto"` from a year) stores the first midnight of
          each year: up to a year of work, except that tracing days in increasing order (as
          `cgm_metrics` and `write_traces` do) carries on from the end of the last day traced, so
          consecutive days cost one day each. Either way a day's trace is the same.

        **Returns:**

        A DataFrame: `time_min`, `clock_h`, `glucose_mg_dl`, `insulin_uU_ml`, tissue fluxes
        (`liver_output_mg_kg_min`, `muscle_uptake_mg_kg_min`, ...), the dynamic states and
        `exercise_intensity_pct`.

        **Raises:**

        - `ResultError`: `day` is not a day of the run (the message gives the range).
        """
        from glucosim.simulation.trace import from_kept_trajectory

        day = self._check_day(day)
        if day not in self._traces:
            if day in self.trajectories:
                frame = from_kept_trajectory(self.trajectories[day])
            else:
                frame = self._recompute_trace(day)
            if len(self._traces) >= 32:  # a month of traces; older ones are recomputed if asked again
                self._traces.pop(next(iter(self._traces)))
            self._traces[day] = frame
        return self._traces[day].copy()

    def _recompute_trace(self, day: int):
        """``day``'s trace from the nearest stored midnight before it, or from where the last recomputed trace
        ended when that came from the same midnight (the same result, without integrating the days between again)."""
        import bisect

        from glucosim.simulation.trace import ForwardTracer

        stored = sorted(self.midnight_states)
        after = bisect.bisect_right(stored, day)
        start = stored[after - 1] if after else 0
        state = self.midnight_states[start] if after else self.initial_state
        assert state is not None, "this result kept no starting state"
        tracer = self._tracer
        if tracer is None or tracer.origin_day != start or not tracer.next_day <= day < tracer.end_day:
            end_day = min(stored[after] if after < len(stored) else self.n_days, self.n_days)
            solver = self.summary["provenance"]["solver"]
            tracer = self._tracer = ForwardTracer(
                self.loaded, start, state, solver["rtol"], end_day, method=solver.get("method")
            )
        return tracer.trace(day)

    def cgm_metrics(self, days=None):
        """CGM metrics per day by the international consensus (see ``glucosim.cgm_metrics``).

        **Main arguments:**

        - `days`: the days (default: the last day); each costs one ``trace`` (computed in increasing order).

        **Returns:**

        A DataFrame, one row per day in the order given: `day` and the columns of
        `glucosim.simulation.trace.CGM_COLUMNS`, from the day's 288 five-minute readings (midnight to the last
        reading before the next midnight).
        """
        # tolist: a wrong day is shown as given ('1', not np.str_('1'))
        days = [self.n_days - 1] if days is None else [self._check_day(day) for day in np.atleast_1d(days).tolist()]
        metrics = {day: _day_cgm_metrics(self.trace(day)) for day in sorted(set(days))}
        return _cgm_table(days, metrics)

    def write_traces(self, out_dir, days) -> dict[str, Path]:
        """Write ``traces/day_NNNNN.csv`` for each of ``days`` and ``cgm_metrics.csv`` into ``out_dir``.

        Each day is traced once, in increasing order (its CGM metrics come from the trace written).

        **Raises:** `ResultError` for a day outside the run; `OutputError` if ``out_dir`` is a file, a saved run
        (``glucosim run --trace-days`` writes a run's own traces) or a sweep's results.
        """
        from glucosim.io.results import COMPLETE_FILE, OutputError, output_kind

        out_dir = Path(out_dir)
        # checked before the folder is made (a wrong day left an empty traces/), and one day as a number (5 was a
        # TypeError), as cgm_metrics takes them
        days = [self._check_day(day) for day in np.atleast_1d(days).tolist()]
        kind = output_kind(out_dir)
        # a finished run is told by its COMPLETE.json, not output_kind's "run": write_result writes a run's own
        # traces with this method into its partial folder, which already holds summary.json
        if kind in ("file", "sweep") or (out_dir / COMPLETE_FILE).is_file():
            # a saved run's cgm_metrics.csv and traces are checksummed in its COMPLETE.json: written into, the run
            # lost the metrics of its own trace days and then failed to load ("changed since the run finished")
            what = {"file": "is a file", "sweep": "holds a sweep's results"}.get(kind, "holds a saved run")
            raise OutputError(
                f"{out_dir}: {what}; write the traces into another folder (glucosim run --trace-days writes a "
                f"run's own traces with it)"
            )
        (out_dir / "traces").mkdir(parents=True, exist_ok=True)
        paths, metrics = {}, {}
        for day in sorted(set(days)):
            trace = self.trace(day)
            path = _write_csv(trace, out_dir / "traces" / f"day_{day:05d}.csv")
            paths[f"trace_{day}"] = path
            metrics[day] = _day_cgm_metrics(trace)
        paths["cgm_metrics"] = _write_csv(_cgm_table(days, metrics), out_dir / "cgm_metrics.csv")
        return paths

    def plot_progression(self, ax=None):
        """Figure of the progression over years (see ``glucosim.plotting.progression``)."""
        from glucosim.plotting.progression import plot_progression

        return plot_progression(self, axes=ax)

    def plot_day(self, day: int | None = None, ax=None):
        """Figure of one day's glucose and insulin, CGM-style (default: the last day); see ``glucosim.plot_day``."""
        from glucosim.plotting.day import plot_day

        return plot_day(self, day=day, axes=ax)

    def save(self, out_dir, figures: bool = True) -> dict[str, Path]:
        """Write summary.json, daily.csv, yearly.csv, the scenario, the midnight states and (optionally) figures.

        The midnight states (``midnight_states.npz``, a few dozen numbers a day) let ``SimulationResult.load``
        recompute any day's trace and run clinic tests on the patient as they were, without the run.
        """
        from glucosim.io.results import write_result

        return write_result(self, Path(out_dir), figures=figures)

    def write_midnight_states(self, folder) -> Path:
        """Write the kept midnight states and the initial state to ``folder/midnight_states.npz``."""
        days = sorted(self.midnight_states)
        path = Path(folder) / MIDNIGHT_STATES_FILE
        np.savez_compressed(
            path,
            days=np.array(days, dtype=np.int64),
            states=np.array([self.midnight_states[day] for day in days]).reshape(len(days), len(STATE_NAMES)),
            initial_state=np.asarray(self.initial_state, dtype=float),
            state_names=np.array(STATE_NAMES),
        )
        return path

    @classmethod
    def load(cls, out_dir) -> SimulationResult:
        """A result written by ``save`` (or ``glucosim run``), for figures and traces without running again.

        **Main arguments:**

        - `out_dir`: the results folder (summary.json, daily.csv, yearly.csv, scenario.toml, midnight_states.npz).

        **Returns:**

        A `SimulationResult` with the tables, the summary, the scenario and the midnight states; kept
        trajectories and clinic visit objects are not stored (`trace(day)` recomputes any day).

        **Raises:**

        - `ResultError`: a file is missing, differs from the run's completion marker (COMPLETE.json: sizes and
          checksums), or was written for another state layout (the message names it).
        """
        import json

        import pandas as pd

        from glucosim._toml import TOMLDecodeError, toml_reader
        from glucosim.scenario.load import parse_scenario

        out_dir = Path(out_dir)
        # a file (summary.json itself, say) or a mistyped folder was reported as a folder missing all five files
        if out_dir.is_file():
            raise ResultError(f"{out_dir}: is a file; give the results folder that holds it ({out_dir.parent})")
        if not out_dir.exists():
            raise ResultError(f"{out_dir}: no such results folder; write one with glucosim run SCENARIO --out DIR")
        needed = ("summary.json", "daily.csv", "yearly.csv", "scenario.toml", MIDNIGHT_STATES_FILE)
        missing = [name for name in needed if not (out_dir / name).is_file()]
        if missing:
            raise ResultError(
                f"{out_dir}: not a complete results folder (missing {', '.join(missing)}); "
                "write one with glucosim run SCENARIO --out DIR"
            )
        from glucosim.errors import OutputError
        from glucosim.io.results import verify_result

        try:  # every file against the completion marker: a truncated daily.csv loaded part of the run unnoticed
            verify_result(out_dir)
        except OutputError as exc:
            raise ResultError(f"{exc}; SimulationResult.load reads only a complete, unchanged run") from None
        summary = json.loads((out_dir / "summary.json").read_text())
        text = (out_dir / "scenario.toml").read_text()
        try:
            data = toml_reader.loads(text)
        except TOMLDecodeError as exc:
            raise ResultError(f"{out_dir / 'scenario.toml'}: not valid TOML: {exc}") from None
        # the scenario's own folder, where a protocol file it names lies: the absolute path recorded at run time
        # (the path as typed then resolved only from the folder the run was started in)
        provenance = summary["provenance"]
        source = provenance.get("scenario_file") or provenance.get("scenario_source") or str(out_dir / "scenario.toml")
        loaded = parse_scenario(data, source=source, text=text)
        with np.load(out_dir / MIDNIGHT_STATES_FILE) as stored:
            if tuple(stored["state_names"]) != tuple(STATE_NAMES):
                raise ResultError(f"{out_dir / MIDNIGHT_STATES_FILE}: written by a model with other states; run again")
            midnight_states = {int(day): state.copy() for day, state in zip(stored["days"], stored["states"])}
            initial = stored["initial_state"].copy()
        solver = summary["provenance"]["solver"]
        return cls(
            daily=pd.read_csv(out_dir / "daily.csv"),
            yearly=pd.read_csv(out_dir / "yearly.csv"),
            summary=summary,
            trajectories={},
            loaded=loaded,
            stats=SolverStats(solver["rhs_evaluations"], solver["accepted_steps"], solver["rejected_steps"]),
            change_days=[(change["day"], change["label"]) for change in summary.get("changes", [])],
            initial_state=initial,
            midnight_states=midnight_states,
        )

    def final_state_dict(self) -> dict[str, float]:
        """The final state by name."""
        assert self.final_state is not None, "this result kept no final state"
        return dict(zip(STATE_NAMES, map(float, self.final_state)))


CSV_FLOAT_FORMAT = "%.6g"
"""Six significant digits: far beyond what the model's tolerances or any measurement resolve."""


def _csv_text(frame) -> str:
    """``frame.to_csv(index=False, float_format=CSV_FLOAT_FORMAT)``, the same text.

    A trace is all floats and all finite: one format per row then gives pandas' text 4-5 times faster (pandas
    formats value by value: 37 ms of a trace's 49 ms, 13 s of writing a year of traces). Anything else (integers,
    booleans, NaN written as an empty field) goes through pandas.
    """
    values = frame.to_numpy()
    if values.dtype.kind != "f" or not np.isfinite(values).all():
        # "\n" as in the row format: the file's own line ending is the text mode's (write_text_whole)
        return frame.to_csv(index=False, float_format=CSV_FLOAT_FORMAT, lineterminator="\n")
    row_format = ",".join([CSV_FLOAT_FORMAT] * values.shape[1]) + "\n"
    return ",".join(frame.columns) + "\n" + "".join([row_format % row for row in map(tuple, values.tolist())])


def _write_csv(frame, path: Path) -> Path:
    """Write ``frame`` to ``path`` whole or not at all, so a killed run leaves no half-written CSV."""
    from glucosim._files import write_text_whole

    write_text_whole(path, _csv_text(frame))
    return path


def _day_cgm_metrics(trace) -> dict[str, float]:
    """CGM metrics of one day's trace: its readings from midnight to the last one before the next midnight."""
    from glucosim.simulation.trace import cgm_metrics

    return cgm_metrics(trace.loc[trace["clock_h"] < 24.0, "glucose_mg_dl"])


def _cgm_table(days, metrics: dict):
    """The CGM metrics table: one row per day of ``days`` (in that order) from ``metrics`` (day -> metrics)."""
    import pandas as pd

    from glucosim.simulation.trace import CGM_COLUMNS

    # the columns named, so no days gives an empty table with its columns (it had none)
    return pd.DataFrame([{"day": day, **metrics[day]} for day in days], columns=["day", *CGM_COLUMNS])


def _window_mean(frame, column: str, start: int, stop: int) -> float:
    return _mean_of_finite(frame[column].to_numpy()[start:stop])


def _mean_of_finite(values: np.ndarray) -> float:
    values = values[np.isfinite(values)]
    return float(values.mean()) if values.size else float("nan")


def whole_years(n_days: int) -> int:
    """Whole years in a run of ``n_days`` days.

    A run of ``duration_years`` is rounded to whole days (2 years = 730 days),
    so half a day of tolerance counts it as the full number of years.
    """
    return int(np.floor((n_days + 0.5) / DAYS_PER_YEAR))


def year_start_days(n_days: int) -> list[int]:
    """The day that starts each whole year of a run of ``n_days`` days (``whole_years``), year 0 included.

    The last year's day is the run's last day when the run ends on it (a 365-day run's year 1 is day 364): its
    midnight state is the last one a run keeps.
    """
    return sorted({min(year_start_day(year), n_days - 1) for year in range(whole_years(n_days) + 1)})


def _yearly(daily):
    import pandas as pd

    n_days = len(daily)
    n_years = whole_years(n_days)
    columns = {column: daily[column].to_numpy() for column in YEARLY_COLUMNS}  # not a pandas lookup per window
    days = daily["day"].to_numpy()
    rows = []
    for year in range(n_years + 1):
        end = n_days if year == n_years and year > 0 else year_start_day(year)
        if year == 0:
            start, stop = 0, min(YEARLY_WINDOW_DAYS, n_days)
        else:
            start, stop = max(end - YEARLY_WINDOW_DAYS, 0), end
        row = {"year": year, "day": int(days[stop - 1] if year else 0)}
        row.update({column: _mean_of_finite(values[start:stop]) for column, values in columns.items()})
        rows.append(row)
    return pd.DataFrame(rows)


def _json_number(value):
    if value is None:
        return None
    value = float(value)
    return None if not np.isfinite(value) else round(value, 6)


def _absolute_file(loaded: LoadedScenario) -> str | None:
    """The absolute path of a scenario's file, or None for a scenario not read from a file ("<dict>", ...)."""
    path = loaded.source_folder / Path(loaded.source).name
    try:
        return str(path) if path.is_file() else None
    except OSError:
        return None


def _provenance(
    loaded: LoadedScenario, stats: SolverStats, rtol: float, wall_time_s: float, solver_info: dict | None = None
) -> dict:
    import numba

    from glucosim._version import __version__

    return {
        "glucosim_version": __version__,
        "numba_version": numba.__version__,
        "numpy_version": np.__version__,
        "python_version": platform.python_version(),
        "scenario_source": loaded.source,
        "scenario_file": _absolute_file(loaded),
        "scenario_sha256": loaded.sha256,
        "parameter_overrides": loaded.parameter_overrides,
        "solver": {"method": "dopri5", "rtol": rtol, **stats.as_dict(), **(solver_info or {})},
        "wall_time_s": round(wall_time_s, 3),
        "created_utc": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
    }


def build_result(
    *,
    loaded,
    program: ScenarioProgram,
    daily_columns,
    trajectories,
    initial_state,
    final_state,
    stats,
    rtol,
    wall_time_s,
    midnight_states=None,
    clinic=None,
    solver_info=None,
) -> SimulationResult:
    """Assemble a ``SimulationResult`` from the streamed daily columns.

    ``solver_info`` (method name, resolution, ...) is merged into the provenance's ``solver`` entry.
    """
    import pandas as pd

    daily = pd.DataFrame(daily_columns)
    daily.insert(
        daily.columns.get_loc("mean_insulin_uU_ml") + 1,
        "hba1c_percent",
        markers.hba1c_from_mean_glucose(
            markers.trailing_mean(daily["mean_glucose_mg_dl"], markers.HBA1C_WINDOW_DAYS, steady_before=True)
        ),
    )
    yearly = _yearly(daily)
    last = daily.iloc[-1]
    crossings = {
        name: markers.first_crossing_day(daily[column], threshold)
        for name, (column, threshold) in markers.CROSSINGS.items()
    }
    final_fasting = _window_mean(daily, "fasting_glucose_mg_dl", max(len(daily) - YEARLY_WINDOW_DAYS, 0), len(daily))
    summary = {
        "scenario": loaded.scenario.name,
        "description": loaded.scenario.description,
        "preset": loaded.scenario.subject.preset,
        "duration_days": int(len(daily)),
        "final_stage": markers.stage(final_fasting, float(last["hba1c_percent"])),
        "first_crossing_day": crossings,
        "changes": [{"day": day, "label": label} for day, label in program.change_days],
        "final": {column: _json_number(yearly.iloc[-1][column]) for column in YEARLY_COLUMNS},
        "yearly": [
            {key: (int(value) if key in ("year", "day") else _json_number(value)) for key, value in row.items()}
            for row in yearly.to_dict("records")
        ],
        "clinic": [visit.to_dict() for visit in clinic or []],
        "plausibility": check_run(daily, clinic or (), body=starting_body(loaded)).to_dict(),
        "provenance": _provenance(loaded, stats, rtol, wall_time_s, solver_info),
    }
    return SimulationResult(
        daily=daily,
        yearly=yearly,
        summary=summary,
        trajectories=trajectories,
        loaded=loaded,
        stats=stats,
        change_days=program.change_days,
        initial_state=initial_state,
        final_state=final_state,
        midnight_states=midnight_states or {},
        clinic=list(clinic or []),
    )
