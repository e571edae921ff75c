"""What a worker does: run one chunk of a sweep and return its rows.

This module must stay importable on every worker (local process, Dask
worker, SLURM job): it is the function shipped to them. A run that fails is
a row with ``status`` and ``error``, never an exception that stops the sweep.
"""

from __future__ import annotations

import time
import traceback
from dataclasses import dataclass

import numpy as np

from glucosim.errors import GlucosimError, raise_if_interrupted
from glucosim.physiology.units import DAYS_PER_YEAR
from glucosim.simulation import markers
from glucosim.sweep import visits

STATUS_OK = "ok"
STATUS_FAILED = "failed"
"""The model or solver refused the run (ScenarioError, ParameterError, SolverError): a result in itself."""
STATUS_IMPLAUSIBLE = "implausible"
"""The run finished but left the physiological bands (``simulation.plausibility``): kept, never counted as ok."""
COMPLETED_STATUSES = (STATUS_OK, STATUS_IMPLAUSIBLE)
"""Runs that produced outputs. Analyses use all of them and report how many were flagged: dropping the
implausible ones would drop the sickest patients (an HbA1c above the band has surely reached diabetes) and bias
incidence, and would leave holes in ordered designs."""
STATUS_SCREENED_OUT = "screened_out"
"""The sweep's screening (``[screening]``, ``glucosim.sweep.screening``) did not enrol the patient: not simulated,
no outputs. Neither completed nor failed: analyses leave these runs out and count them apart."""
STATUS_ERROR = "error"
"""An unexpected exception (a bug to report); recorded with its traceback so the sweep goes on."""

PREDIABETES_CROSSINGS = markers.STAGE_CROSSINGS["prediabetes"]
DIABETES_CROSSINGS = markers.STAGE_CROSSINGS["diabetes"]
TIMING_COLUMNS = ("wall_time_s",)
"""Columns that differ between otherwise identical runs (machine speed)."""
TEXT_COLUMNS = ("arm", "status", "error")
"""Text columns besides the stage columns (``*_stage``)."""


@dataclass(frozen=True)
class RunSpec:
    """One run: which sample, which arm, and the sample's variable values."""

    run_id: int
    sample: int
    arm_index: int
    values: tuple[float, ...]
    screened_out: bool = False  # the screening did not enrol the patient: a row without a run


@dataclass(frozen=True)
class ChunkTask:
    """A unit of work: consecutive runs, written together as one chunk file."""

    chunk_index: int
    loaded: object  # LoadedSweep (pickled to the worker; small)
    runs: tuple[RunSpec, ...]


def crossing_column(name: str) -> str:
    """Column of the first day a threshold was crossed (``markers.CROSSINGS`` name)."""
    return f"crossing_day_{name}"


def yearly_column(year: int, marker: str) -> str:
    """Column of a yearly marker, e.g. ``y10_hba1c_percent``."""
    return f"y{year}_{marker}"


def _first_day(crossings: dict, names) -> float:
    days = [crossings[name] for name in names if crossings.get(name) is not None]
    return float(min(days)) if days else float("nan")


def _outputs(result, yearly_markers, n_years: int) -> dict:
    crossings = result.summary["first_crossing_day"]
    row = {
        "final_stage": result.summary["final_stage"],
        "final_fasting_glucose_mg_dl": result.summary["final"]["fasting_glucose_mg_dl"],
        "final_hba1c_percent": result.summary["final"]["hba1c_percent"],
    }
    row.update({crossing_column(name): (float(day) if day is not None else np.nan) for name, day in crossings.items()})
    row["prediabetes_onset_day"] = _first_day(crossings, PREDIABETES_CROSSINGS)
    row["diabetes_onset_day"] = _first_day(crossings, DIABETES_CROSSINGS)
    row["years_to_diabetes"] = row["diabetes_onset_day"] / DAYS_PER_YEAR
    yearly = result.yearly
    for year in range(n_years + 1):
        record = yearly.iloc[year] if year < len(yearly) else None
        for marker in yearly_markers:
            row[yearly_column(year, marker)] = float(record[marker]) if record is not None else np.nan
        row[yearly_column(year, "stage")] = (
            markers.stage(float(record["fasting_glucose_mg_dl"]), float(record["hba1c_percent"]))
            if record is not None
            else None
        )
    row["rhs_evaluations"] = result.stats.rhs_evaluations
    return row


def yearly_ogtt_two_hour(scenario, result, n_days: int) -> np.ndarray:
    """The true 2-h glucose of the clinic's yearly OGTTs and their repeats, one row (visit, repeat) a year, each on
    the run's state at that midnight (kept and, under envelope following, simulated: ``visits.ogtt_days`` as
    ``simulate``'s landing days). A test the model refuses raises (the run is recorded as failed): a clinic that
    silently skipped a visit would miss diagnoses."""
    from glucosim.clinic.runner import run_protocol
    from glucosim.scenario.protocol import load_protocol

    protocol = load_protocol(visits.OGTT_PROTOCOL)
    two_hour = {}
    for day in visits.ogtt_days(n_days):  # a repeat clamped onto its visit's day is that day's test
        test = run_protocol(protocol, scenario, day=day, state=result.midnight_states[day])
        two_hour[day] = float(test.indices["two_hour_glucose_mg_dl"])
    return np.array([[two_hour[visit], two_hour[repeat]] for visit, repeat in visits.yearly_ogtt_days(n_days)])


def _yearly_ogtts(scenario, result, n_days: int) -> dict:
    """The OGTT columns of a run's row (``visits.ogtt_columns``)."""
    values = yearly_ogtt_two_hour(scenario, result, n_days).ravel()
    return dict(zip(visits.ogtt_columns(len(values) // 2), map(float, values)))


def result_columns(loaded, n_years: int) -> list[str]:
    """Every column of a chunk, in order, so chunks with only failed runs have the same schema."""
    from glucosim.simulation.markers import CROSSINGS

    columns = [
        "run_id",
        "sample",
        "arm",
        *loaded.variable_names,
        "status",
        "error",
        "final_stage",
        "final_fasting_glucose_mg_dl",
        "final_hba1c_percent",
    ]
    columns += [crossing_column(name) for name in CROSSINGS]
    columns += ["prediabetes_onset_day", "diabetes_onset_day", "years_to_diabetes"]
    for year in range(n_years + 1):
        columns += [yearly_column(year, marker) for marker in (*loaded.sweep.outputs.yearly, "stage")]
    if loaded.sweep.outputs.yearly_ogtt:
        columns += visits.ogtt_columns(len(visits.yearly_ogtt_days(loaded.n_days)))
    return columns + ["rhs_evaluations", *TIMING_COLUMNS]


def run_one(loaded, spec: RunSpec, n_years: int) -> tuple[dict, object]:
    """Run one sample in one arm; returns (row, daily frame or None). Never raises for a failed run."""
    from glucosim.scenario.load import parse_scenario
    from glucosim.simulation.plausibility import verdict_of_summary
    from glucosim.simulation.run import simulate
    from glucosim.sweep.scenario_edit import run_scenario_data

    arm = loaded.sweep.arms[spec.arm_index]
    values = dict(zip(loaded.variable_names, spec.values))
    row = {"run_id": spec.run_id, "sample": spec.sample, "arm": arm.name, **values}
    started = time.perf_counter()
    daily = None
    if spec.screened_out:
        row.update(status=STATUS_SCREENED_OUT, error=None, wall_time_s=0.0)
        return row, None
    try:
        data = run_scenario_data(loaded, arm, values)
        scenario = parse_scenario(data, source=f"{loaded.source} (run {spec.run_id}, arm '{arm.name}')")
        n_days = scenario.scenario.n_days
        # the yearly OGTTs need the visit days' states, simulated (not interpolated) under envelope following
        ogtt_days = visits.ogtt_days(n_days) if loaded.sweep.outputs.yearly_ogtt else ()
        result = simulate(scenario, progress=False, state_days=ogtt_days, landing_days=ogtt_days)
        row.update(_outputs(result, loaded.sweep.outputs.yearly, n_years))
        if ogtt_days:
            row.update(_yearly_ogtts(scenario, result, n_days))
        verdict = verdict_of_summary(result.summary)
        if verdict.plausible:
            row.update(status=STATUS_OK, error=None)
        else:
            row.update(status=STATUS_IMPLAUSIBLE, error=f"implausible result: {verdict.message()}")
        if loaded.sweep.outputs.daily:
            daily = result.daily[["day", *loaded.sweep.outputs.daily]].assign(run_id=spec.run_id)
    except GlucosimError as exc:
        raise_if_interrupted(exc)
        row.update(status=STATUS_FAILED, error=f"{type(exc).__name__}: {exc}")
    except Exception as exc:  # noqa: BLE001 - one broken run must not stop a million-run sweep
        raise_if_interrupted(exc)  # but a Ctrl-C must: it is not this run's failure
        row.update(status=STATUS_ERROR, error=f"{type(exc).__name__}: {exc}\n{traceback.format_exc(limit=5)}")
    row["wall_time_s"] = time.perf_counter() - started
    return row, daily


def run_chunk(task: ChunkTask):
    """Run every run of ``task``; returns (chunk index, rows DataFrame, daily DataFrame or None)."""
    import pandas as pd

    n_years = task.loaded.n_years
    rows, dailies = [], []
    for spec in task.runs:
        row, daily = run_one(task.loaded, spec, n_years)
        rows.append(row)
        if daily is not None:
            dailies.append(daily)
    daily_frame = pd.concat(dailies, ignore_index=True) if dailies else None
    frame = pd.DataFrame(rows).reindex(columns=result_columns(task.loaded, n_years))
    for column in frame.columns:
        if column in TEXT_COLUMNS or column.endswith("_stage"):
            # one text type in every chunk, even where every run failed and the column is empty
            frame[column] = frame[column].astype(pd.StringDtype())
    return task.chunk_index, frame, daily_frame
