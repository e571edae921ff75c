"""``run_sweep``: a sweep file to a results directory, resumable, on any backend."""

from __future__ import annotations

import contextlib
import math
import numbers
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from glucosim._optional import require_extra
from glucosim.errors import SweepError
from glucosim.physiology.units import DAYS_PER_YEAR
from glucosim.sweep.backends import (
    LocalPool,
    SlurmOptions,
    available_cores,
    dask_client,
    execute,
)
from glucosim.sweep.design import design_samples, patient_seeds
from glucosim.sweep.load import LoadedSweep, load_sweep
from glucosim.sweep.store import SweepStore
from glucosim.sweep.worker import COMPLETED_STATUSES, STATUS_OK, STATUS_SCREENED_OUT, ChunkTask, RunSpec

DEFAULT_CHUNK_RUNS = 8
"""Runs per chunk file: a chunk is the unit of work, of saving and of resuming."""
SUMMARY_COLUMNS = ("sample", "final_stage", "y0_stage", "prediabetes_onset_day", "diabetes_onset_day")
"""What summary.json needs from each run (read alone, so a million-run summary stays small)."""
FAILURE_EXAMPLES = 5
"""Failed runs quoted in summary.json (all are in results.parquet)."""
CONFIRM_RUNS = 10_000
"""A sweep of more runs is started only when confirmed (``--yes``, ``confirm_large=True``)."""
MAX_RUNS = 10_000_000
"""No sweep is larger: its design table alone would not fit a workstation's memory. Split it."""
SECONDS_PER_RUN_YEAR = 0.15
"""Rough cost of one simulated year on one core, for the estimate printed before a sweep starts (envelope
following; measured 0.10 s of CPU per patient-year over both arms of the prevention sweep, 3-year runs, on a
machine at load 3.5: control 0.14 s and lifestyle 0.48 s a run, median over the runs, where README's
Speed table reports one run of each arm timed alone, best of several; a weekly routine costs about 3.5 times a daily
one; the margin covers worker start and a busy machine); the progress bar then shows the real rate."""
BYTES_PER_VALUE = 10
"""Rough size of one stored number in a compressed chunk file, for the disk estimate."""
SECONDS_PER_SCREENING = 0.06
"""Rough cost of screening one patient on one core (``sweep.screening``: its day 0 and one OGTT; measured 0.045 s
of CPU), for the estimate printed before a screened sweep starts."""


@dataclass(frozen=True)
class SweepOutcome:
    """What one call of ``run_sweep`` did.

    Attributes:
        out_dir: the results directory.
        n_runs: runs in the whole sweep.
        n_done: runs finished (this call and earlier ones).
        n_failed: finished runs whose solve or scenario failed.
        complete: every chunk is done (results.parquet and summary.json are written).
        wall_time_s: time of this call, seconds.
        runs_this_call: runs finished by this call.
        n_screened_out: finished runs not simulated because the screening did not enrol their patient.
    """

    out_dir: Path
    n_runs: int
    n_done: int
    n_failed: int
    complete: bool
    wall_time_s: float
    runs_this_call: int
    n_screened_out: int = 0


def planned_runs(loaded: LoadedSweep) -> int:
    """Runs the sweep asks for, computed from the file alone (before any design is generated)."""
    import math

    design = loaded.sweep.design
    n_variables = len(loaded.sweep.variables)
    if design.kind == "grid":
        samples = math.prod(
            len(variable.values) if variable.values is not None else variable.levels
            for variable in loaded.sweep.variables
        )
    elif design.kind == "sobol":
        samples = design.samples * (n_variables + 2)
    elif design.kind == "morris":
        samples = design.samples * (n_variables + 1)
    else:
        samples = design.samples
    return samples * len(loaded.sweep.arms)


def plan_message(loaded: LoadedSweep, n_runs: int, n_new: int, workers: int) -> str:
    """What the sweep will do: run count, expected time and disk use (rough; said before it starts)."""
    years = max(loaded.run_years, 1.0 / DAYS_PER_YEAR)
    hours = n_new * years * SECONDS_PER_RUN_YEAR / max(workers, 1) / 3600.0
    n_values = len(loaded.variable_names) + 20 + (loaded.n_years + 1) * (len(loaded.sweep.outputs.yearly) + 1)
    n_values += len(loaded.sweep.outputs.daily) * round(years * DAYS_PER_YEAR)
    disk_mb = n_runs * n_values * BYTES_PER_VALUE * 2 / 1e6  # chunks and results.parquet
    shown = _duration(hours * 3600.0)
    if loaded.sweep.screening is not None:
        n_arms = len(loaded.sweep.arms)
        screening_s = n_new / n_arms * SECONDS_PER_SCREENING / max(workers, 1)
        return (
            f"{loaded.sweep.name}: {n_runs // n_arms:,} patients to screen ('{loaded.sweep.screening.rule}' rule; "
            f"{n_new // n_arms:,} to do, about {_duration(screening_s)} on {workers} worker(s)), then {n_arms} runs of "
            f"{years:.3g} years for each patient it enrols (at most {shown}, if it enrolled every one)"
        )
    return (
        f"{loaded.sweep.name}: {n_runs:,} runs of {years:.3g} years ({n_new:,} to do), about {shown} on {workers} "
        f"worker(s) and {disk_mb:,.0f} MB on disk"
    )


def _duration(seconds: float) -> str:
    if seconds < 90:
        return f"{seconds:.0f} s"
    return f"{seconds / 60:.0f} min" if seconds < 7200 else f"{seconds / 3600:.1f} h"


def design_table(loaded: LoadedSweep):
    """One row per run: run_id, sample, arm, the sample's seed, and the variables' values (built column-wise:
    no Python object per run)."""
    import numpy as np
    import pandas as pd

    samples = np.asarray(design_samples(loaded), dtype=float)
    n_samples, n_arms = len(samples), len(loaded.sweep.arms)
    seeds = np.array(
        [int(child.generate_state(1)[0]) for child in patient_seeds(loaded.sweep.seed, n_samples)], dtype=np.int64
    )
    sample = np.repeat(np.arange(n_samples), n_arms)
    arm_index = np.tile(np.arange(n_arms), n_samples)
    columns = {
        "run_id": np.arange(n_samples * n_arms),
        "sample": sample,
        "arm": np.array([arm.name for arm in loaded.sweep.arms], dtype=object)[arm_index],
        "arm_index": arm_index,
        "sample_seed": seeds[sample],
    }
    for k, name in enumerate(loaded.variable_names):
        columns[name] = samples[sample, k] if n_samples else np.zeros(0)
    return pd.DataFrame(columns)


def _chunk_rows(chunk_runs: int, n_runs: int, index: int) -> range:
    return range(index * chunk_runs, min((index + 1) * chunk_runs, n_runs))


def _tasks(
    loaded: LoadedSweep, design, chunk_runs: int, chunks: list[int], enrolled: set[int] | None = None
) -> Iterator[ChunkTask]:
    """Each pending chunk's task, made as the backend asks for it (never all at once). ``enrolled``: the samples a
    screening enrolled (None: no screening); the others' runs are rows without a run (``screened_out``)."""
    names = list(loaded.variable_names)
    values = design[names].to_numpy()
    for index in chunks:
        specs = tuple(
            RunSpec(
                int(design["run_id"].iat[r]),
                int(design["sample"].iat[r]),
                int(design["arm_index"].iat[r]),
                tuple(map(float, values[r])),
                screened_out=enrolled is not None and int(design["sample"].iat[r]) not in enrolled,
            )
            for r in _chunk_rows(chunk_runs, len(design), index)
        )
        yield ChunkTask(index, loaded, specs)


def _screen(
    store: SweepStore,
    loaded: LoadedSweep,
    design,
    samples: set[int],
    done: set[int],
    progress,
    *,
    workers,
    dask,
    pool,
    announce,
):
    """Screen ``samples`` (those of the chunks this call runs) where the screening chunks holding them are not on
    disk whole (``done``: those that are), writing each screening chunk as it lands; returns the enrolled among
    ``samples``."""
    from glucosim.sweep.screening import ScreeningTask, screen_chunk
    from glucosim.sweep.store import SCREENING_CHUNK_SAMPLES, SCREENING_FILE

    n_samples = int(design["sample"].max()) + 1 if len(design) else 0
    reference = design[design["arm_index"] == 0].sort_values("sample")
    values = reference[list(loaded.variable_names)].to_numpy()
    todo = sorted({sample // SCREENING_CHUNK_SAMPLES for sample in samples} - done)

    def tasks() -> Iterator[ScreeningTask]:
        for index in todo:
            block = range(index * SCREENING_CHUNK_SAMPLES, min((index + 1) * SCREENING_CHUNK_SAMPLES, n_samples))
            yield ScreeningTask(index, loaded, tuple((k, tuple(map(float, values[k]))) for k in block))

    n_todo = sum(min(SCREENING_CHUNK_SAMPLES, n_samples - index * SCREENING_CHUNK_SAMPLES) for index in todo)
    bar = None
    if progress and n_todo:
        from tqdm.auto import tqdm

        bar = tqdm(total=n_todo, unit="patient", desc="screening", smoothing=0.05)
    enrolled_now = 0
    try:
        for index, frame in execute(tasks(), workers=workers, client=dask, function=screen_chunk, pool=pool):
            try:
                store.write_screening_chunk(index, frame)
            except OSError as exc:
                raise SweepError(
                    f"{store.out_dir}: could not write screening chunk {index}: {exc.strerror or exc}; finished "
                    "chunks are kept: fix the cause and run the same command again"
                ) from None
            enrolled_now += int(frame["enrolled"].sum())
            if bar is not None:
                bar.update(len(frame))
                bar.set_postfix(enrolled=enrolled_now, refresh=False)
    finally:
        if bar is not None:
            bar.close()
    table = store.load_screening(samples)
    missing = set(samples) - (set(map(int, table["sample"])) if table is not None else set())
    if missing:  # never taken as not enrolled: that would write their runs as screened out
        raise SweepError(
            f"{store.out_dir}: the screening of {len(missing):,} patients (samples {min(missing)}-{max(missing)}) is "
            "not on disk after screening them (a screening chunk removed while this ran?); run the same command again"
        )
    enrolled = set(map(int, table.loc[table["enrolled"].astype(bool), "sample"])) if table is not None else set()
    refused = int(table["error"].notna().sum()) if table is not None else 0
    if samples:
        announce(
            f"screening ('{loaded.sweep.screening.rule}'): {len(enrolled):,} of {len(samples):,} patients enrolled "
            f"({100.0 * len(enrolled) / len(samples):.1f} %"
            + (f"; {refused} refused, see {store.out_dir / SCREENING_FILE}" if refused else "")
            + f"); the arms are simulated for the enrolled only ({len(enrolled) * len(loaded.sweep.arms):,} runs)"
        )
    return enrolled


def _samples_without_screening(n_samples: int, done: set[int], owned: set[int] | None = None) -> set[int]:
    """Samples whose screening chunk is not on disk whole (not in ``done``; e.g. damaged after all their runs had
    finished) among the screening chunks ``owned`` (default: all): screened again, with the same draws, so the
    consolidated screening table covers every patient."""
    from glucosim.sweep.store import SCREENING_CHUNK_SAMPLES

    return {
        sample
        for sample in range(n_samples)
        if sample // SCREENING_CHUNK_SAMPLES not in done
        and (owned is None or sample // SCREENING_CHUNK_SAMPLES in owned)
    }


def array_block_runs(n_arms: int, chunk_runs: int, screened: bool) -> int:
    """Runs per block of a job array's work: a task takes whole blocks (blocks ``I, I+N, ...``). Unscreened: one run
    chunk. Screened: whole screening chunks and whole run chunks at once (the least common multiple of the two, in
    runs), so each screening chunk is screened by the one task that runs its patients (a task that took run chunks
    one by one needed the screening chunks of several blocks, and screened them again when their tasks ran at the
    same time: up to 5 times each, measured 2026-12-03)."""
    from glucosim.sweep.store import SCREENING_CHUNK_SAMPLES

    return math.lcm(SCREENING_CHUNK_SAMPLES * n_arms, chunk_runs) if screened else chunk_runs


def _my_screening_chunks(
    n_samples: int, n_arms: int, chunk_runs: int, task_index: int | None, task_count: int | None
) -> set[int]:
    """The screening chunks this call is responsible for: all of them, or a job-array task's blocks' own."""
    from glucosim.sweep.store import SCREENING_CHUNK_SAMPLES

    n_chunks = -(-n_samples // SCREENING_CHUNK_SAMPLES)
    if task_index is None or task_count is None:
        return set(range(n_chunks))
    per_block = array_block_runs(n_arms, chunk_runs, True) // (SCREENING_CHUNK_SAMPLES * n_arms)
    return {index for index in range(n_chunks) if (index // per_block) % task_count == task_index}


def _summary(store: SweepStore, loaded: LoadedSweep, wall_time_s: float) -> dict:
    from glucosim.analysis.sweep.cohort import arm_comparison, cumulative_incidence

    columns = ["run_id", "arm", "status", "error", *loaded.variable_names, *SUMMARY_COLUMNS]
    every = store.load_results(require_complete=True, columns=columns)
    screened_out = every["status"] == STATUS_SCREENED_OUT
    results = every[~screened_out]  # the outcome is of the runs simulated (a screened sweep's: the enrolled)
    failed = results[results["status"] != STATUS_OK]
    incidence = cumulative_incidence(results, loaded.n_years, reference_arm=loaded.sweep.arms[0].name)
    return {
        "sweep": loaded.sweep.name,
        "n_runs": len(every),
        "n_screened_out": int(screened_out.sum()),
        "n_ok": int((results["status"] == STATUS_OK).sum()),
        "n_implausible": int((results["status"].isin(COMPLETED_STATUSES) & (results["status"] != STATUS_OK)).sum()),
        "n_failed": len(failed),
        "failures": failed[["run_id", "arm", *loaded.variable_names, "error"]]
        .head(FAILURE_EXAMPLES)
        .to_dict("records"),
        "arms": arm_comparison(incidence, reference_arm=loaded.sweep.arms[0].name),
        "final_stage_counts": results[results["status"].isin(COMPLETED_STATUSES)]
        .groupby("arm", sort=False)["final_stage"]
        .value_counts()
        .unstack(fill_value=0)
        .to_dict("index"),
        "patient_years": float(len(results) * loaded.n_years),  # simulated
        "last_call_wall_time_s": round(wall_time_s, 3),
    }


def _my_chunks(pending: list[int], task_index: int | None, task_count: int | None, block_chunks: int = 1) -> list[int]:
    """The pending run chunks this call runs: all, or a job-array task's blocks of ``block_chunks`` chunks
    (``array_block_runs``)."""
    if task_index is None:
        return pending
    if task_count is None or not 0 <= task_index < task_count:
        raise SweepError(f"--task-index must be in [0, --task-count) (got {task_index} of {task_count})")
    return [index for index in pending if (index // block_chunks) % task_count == task_index]


def run_sweep(
    sweep: LoadedSweep | str | Path,
    out_dir: str | Path,
    *,
    workers: int | None = None,
    chunk_runs: int | None = None,
    scheduler: str | None = None,
    slurm: SlurmOptions | None = None,
    client=None,
    task_index: int | None = None,
    task_count: int | None = None,
    progress: bool = True,
    confirm_large: bool = False,
    announce=None,
) -> SweepOutcome:
    """Run (or resume) a sweep, writing results chunk by chunk to ``out_dir``.

    Main arguments:
        sweep: a sweep TOML path or a ``LoadedSweep``.
        out_dir: results directory; if it holds this sweep already, finished chunks are kept and skipped.

    Where to run (default: all local cores):
        workers: local worker processes (1 = in this process).
        scheduler: address of a running Dask scheduler (``tcp://host:8786``).
        slurm: start Dask workers as SLURM jobs with these resources.
        client: an existing ``distributed.Client`` (e.g. on a ``LocalCluster``).
        task_index, task_count: job-array mode: run only chunks with ``index % task_count == task_index``
            (e.g. ``$SLURM_ARRAY_TASK_ID`` of ``$SLURM_ARRAY_TASK_COUNT``); the last task to finish
            writes results.parquet.

    Other arguments:
        chunk_runs: runs per chunk (fixed by the first call for a directory).
        progress: progress bar (terminal or notebook).
        confirm_large: allow more than ``CONFIRM_RUNS`` runs.
        announce: called with a line for the plan (runs, time, disk) and for each repair (default: print to
            stderr).

    Results do not depend on workers, backend or chunking: every run is
    computed on its own from the design table.
    """
    require_extra("sweep", "glucosim sweep")
    # checked before anything is written: a chunk size of -4 once went into a new folder's manifest for good
    for name, value in (("workers", workers), ("chunk_runs", chunk_runs), ("task_count", task_count)):
        if value is not None and (isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1):
            raise SweepError(f"{name} must be a whole number of at least 1 (or None for the default), got {value!r}")
    if task_index is not None and (
        isinstance(task_index, bool) or not isinstance(task_index, numbers.Integral) or task_index < 0
    ):
        raise SweepError(f"task_index must be a whole number of at least 0, got {task_index!r}")
    # numpy's integers pass the checks; the manifest is JSON, which takes Python's
    workers, chunk_runs, task_count, task_index = (
        None if value is None else int(value) for value in (workers, chunk_runs, task_count, task_index)
    )
    # the local workers' fork server starts (or restarts, if what it captured changed) with the first pool that has
    # work (LocalPool.executor), not before: a sweep refused below, or with nothing left to run, leaves no process
    local_workers = workers or available_cores()
    loaded = sweep if isinstance(sweep, LoadedSweep) else load_sweep(sweep)
    announce = announce or _stderr
    n_planned = planned_runs(loaded)
    if n_planned > MAX_RUNS:
        raise SweepError(
            f"{loaded.source}: {n_planned:,} runs is more than any sweep may have ({MAX_RUNS:,}); "
            "use fewer levels or samples, or split it into several sweeps"
        )
    if n_planned > CONFIRM_RUNS and not confirm_large:
        raise SweepError(
            f"{loaded.source}: {n_planned:,} runs (more than {CONFIRM_RUNS:,}); "
            + plan_message(loaded, n_planned, n_planned, workers or available_cores()).split(": ", 1)[1]
            + ". Confirm with --yes (Python: confirm_large=True)"
        )
    store = SweepStore(out_dir, announce=announce)
    existing = store.manifest()
    chunk_runs = chunk_runs or (existing["chunk_runs"] if existing else None)
    chunk_runs = chunk_runs or store.recorded_chunk_runs() or DEFAULT_CHUNK_RUNS  # a lost manifest's chunking
    design = design_table(loaded)
    try:
        manifest = store.initialise(loaded, design, chunk_runs)
    except OSError as exc:  # a parent that is a file, a read-only folder, a full disk: before any run
        raise SweepError(f"{out_dir}: cannot write the sweep's folder: {exc.strerror or exc}") from None
    done = store.completed_chunks()
    n_new = sum(min(chunk_runs, len(design) - i * chunk_runs) for i in range(manifest["n_chunks"]) if i not in done)
    if n_new:
        announce(plan_message(loaded, len(design), n_new, workers or available_cores()))
    screened_sweep = loaded.sweep.screening is not None
    n_arms = len(loaded.sweep.arms)
    block_chunks = array_block_runs(n_arms, chunk_runs, screened_sweep) // chunk_runs
    pending = [i for i in range(manifest["n_chunks"]) if i not in done]
    mine = _my_chunks(pending, task_index, task_count, block_chunks)
    n_blocks = -(-manifest["n_chunks"] // block_chunks)
    if screened_sweep and task_count is not None and task_index == 0 and n_blocks < task_count:
        from glucosim.sweep.store import SCREENING_CHUNK_SAMPLES

        announce(
            f"{loaded.source}: {n_blocks} block(s) of work for {task_count} job-array tasks: tasks {n_blocks} to "
            f"{task_count - 1} have nothing to run (a screened sweep's block is whole screening chunks and whole "
            f"run chunks, {block_chunks * chunk_runs} runs here); --chunk-runs dividing "
            f"{SCREENING_CHUNK_SAMPLES * n_arms} gives blocks of {SCREENING_CHUNK_SAMPLES * n_arms} runs"
        )
    started = time.perf_counter()
    # one backend for both stages: one SLURM cluster, or one set of local worker processes (each starts once)
    with _backend_client(scheduler, slurm, client) as dask, LocalPool(local_workers) as pool:
        enrolled = None
        runs_before, n_bar, bar_name = (
            sum(min(chunk_runs, len(design) - index * chunk_runs) for index in done),
            len(design),
            loaded.sweep.name,
        )
        n_samples = int(design["sample"].max()) + 1 if len(design) else 0

        def screen(samples, screened):  # on this call's backend: the patients' screening, before or after the runs
            return _screen(
                store,
                loaded,
                design,
                samples,
                screened,
                progress,
                workers=local_workers,
                dask=dask,
                pool=pool,
                announce=announce,
            )

        if screened_sweep:  # screen first: the arms run only for the enrolled
            rows = [r for i in mine for r in _chunk_rows(chunk_runs, len(design), i)]
            sample_of = design["sample"].to_numpy()
            to_screen = {int(sample_of[r]) for r in rows}
            screened = store.screening_chunks_done(n_samples)  # read once: both steps below use it
            # and this call's own screening chunks lost after their runs finished (its blocks' in a job array: a
            # screening chunk is never another task's work)
            owned = _my_screening_chunks(n_samples, n_arms, chunk_runs, task_index, task_count)
            to_screen |= _samples_without_screening(n_samples, screened, owned)
            enrolled = screen(to_screen, screened)
            # the bar counts the runs simulated by this call, not the screened-out rows
            n_bar = sum(int(sample_of[r]) in enrolled for r in rows)
            runs_before, bar_name = 0, "simulating the enrolled"
        tasks = _tasks(loaded, design, chunk_runs, mine, enrolled)
        finished = _drive(
            store, tasks, runs_before, n_bar, bar_name, progress, workers=local_workers, dask=dask, pool=pool
        )
        if screened_sweep and store.is_complete():
            # the call that completes the sweep repairs screening chunks lost after their tasks finished (normally
            # none), so the consolidated table covers every patient
            screened = store.screening_chunks_done(n_samples)
            lost = _samples_without_screening(n_samples, screened)
            if lost:
                screen(lost, screened)
    complete = store.is_complete()
    if complete:
        if loaded.sweep.screening is not None:
            store.consolidate_screening()
        store.consolidate(_summary(store, loaded, time.perf_counter() - started))
    n_failed, n_done, n_screened_out = _counts(store)
    return SweepOutcome(
        Path(out_dir), len(design), n_done, n_failed, complete, time.perf_counter() - started, finished, n_screened_out
    )


def _stderr(line: str) -> None:
    import sys

    print(line, file=sys.stderr, flush=True)


def _drive(store, tasks, runs_before, n_runs, name, progress, *, workers, dask, pool=None) -> int:
    """Run the tasks on the chosen backend, saving each chunk as it lands; returns runs finished (the bar counts
    the runs simulated: a screened-out row is not one)."""
    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=n_runs, initial=runs_before, unit="run", desc=name[:40], smoothing=0.05)
    finished = failed = 0
    try:
        for chunk_index, rows, daily in execute(tasks, workers=workers, client=dask, pool=pool):
            try:
                store.write_chunk(chunk_index, rows, daily)
            except OSError as exc:  # disk full, folder removed or read-only: finished chunks stay whole
                raise SweepError(
                    f"{store.out_dir}: could not write chunk {chunk_index}: {exc.strerror or exc}; finished "
                    "chunks are kept: fix the cause and run the same command again"
                ) from None
            finished += len(rows)
            simulated = rows["status"] != STATUS_SCREENED_OUT
            failed += int((simulated & (rows["status"] != STATUS_OK)).sum())
            if bar is not None:
                bar.update(int(simulated.sum()))
                bar.set_postfix(failed=failed, refresh=False)
    finally:
        if bar is not None:
            bar.close()
    return finished


def _backend_client(scheduler, slurm, client):
    """A context giving the Dask client to use, or None for local execution."""
    if client is None and (scheduler is not None or slurm is not None):
        return dask_client(scheduler, slurm)
    return contextlib.nullcontext(client)


def _counts(store: SweepStore) -> tuple[int, int, int]:
    """(failed, done, screened out) over every finished chunk."""
    try:
        status = store.load_results(columns=["status"])["status"]
    except SweepError:
        return 0, 0, 0
    screened_out = status == STATUS_SCREENED_OUT
    return int(((status != STATUS_OK) & ~screened_out).sum()), len(status), int(screened_out.sum())
