"""Write a SimulationResult to a directory: all of it or nothing.

Every file is written into a temporary folder beside ``out_dir``; a marker
(``COMPLETE_FILE``, listing each file's size and SHA-256) is written last, and
the folder is renamed to ``out_dir`` in one step. A run killed while saving
leaves only a hidden ``.NAME.partial-*`` folder (removed by the next save), so
a folder named ``out_dir`` is always a whole result, and nothing of an earlier
run is left beside a new one.

A folder holding a sweep, or anything that is not a glucosim run, is never
replaced; a folder holding another run is replaced only when asked
(``glucosim run --overwrite``; ``SimulationResult.save`` replaces its own runs).
"""

from __future__ import annotations

import datetime
import hashlib
import json
import os
import shutil
import uuid
from glob import escape as glob_escape
from pathlib import Path

from glucosim._files import TEMPORARY_MARK, left_by_dead_writer, temporary_beside
from glucosim.errors import OutputError

SUMMARY_FILE = "summary.json"
DAILY_FILE = "daily.csv"
YEARLY_FILE = "yearly.csv"
PROGRESSION_FIGURE = "progression.png"
DAY_FIGURE = "day.png"
SCENARIO_COPY = "scenario.toml"
CLINIC_FILE = "clinic_samples.csv"
COMPLETE_FILE = "COMPLETE.json"
"""Written last: the run's files with their sizes and checksums. Without it a folder is not a finished run."""
SWEEP_MANIFEST = "manifest.json"
"""What marks a sweep's folder (``glucosim.sweep.store``)."""
_PARTIAL = TEMPORARY_MARK  # a folder being written: temporary_beside's ".NAME.partial-HOST-PID-HEX"
_OLD = ".replaced-"


def output_kind(out_dir: Path) -> str:
    """What ``out_dir`` holds: 'missing', 'empty', 'run', 'sweep', 'file' or 'other'."""
    out_dir = Path(out_dir)
    if not out_dir.exists():
        return "missing"
    if not out_dir.is_dir():
        return "file"
    names = set(os.listdir(out_dir))
    if not names:
        return "empty"
    if SWEEP_MANIFEST in names:
        return "sweep"
    if COMPLETE_FILE in names or SUMMARY_FILE in names:
        return "run"
    return "other"


def _run_named(out_dir: Path) -> str:
    """The run a folder holds, as the refusal names it: "a run of 'SCENARIO'" from its summary.json (rerunning the
    quick start then names its own scenario, not "another run"), or "a run" if that cannot be read."""
    try:
        name = json.loads((Path(out_dir) / SUMMARY_FILE).read_text())["scenario"]
    except (OSError, ValueError, KeyError, TypeError):
        return "a run"
    return f"a run of '{name}'"


def check_output_dir(out_dir: Path, overwrite: bool = False) -> None:
    """Check, before simulating, that a run's results can go to ``out_dir``.

    Raises:
        OutputError: ``out_dir`` is a file, holds a sweep or other files, holds a run and ``overwrite`` is
            false, or its folder cannot be written (missing parent that cannot be made, read-only, disk full).
    """
    out_dir = Path(out_dir)
    here = Path.cwd().resolve()
    if out_dir.resolve() == here or out_dir.resolve() in here.parents:
        # the results folder is renamed into place (and a replaced run moved aside): the folder a user stands in
        # cannot be, and `--out .` once failed only after the whole run had been simulated
        raise OutputError(
            f"{out_dir}: is the current folder or holds it; results go to a folder of their own, e.g. --out "
            f"results/NAME"
        )
    kind = output_kind(out_dir)
    if kind == "file":
        raise OutputError(f"{out_dir}: is a file, not a folder; choose another --out")
    if kind == "sweep":
        raise OutputError(f"{out_dir}: holds a sweep's results (manifest.json); choose another --out")
    if kind == "other":
        raise OutputError(f"{out_dir}: is not empty and holds no glucosim run; choose another --out")
    if kind == "run" and not overwrite:
        raise OutputError(
            f"{out_dir}: holds the results of {_run_named(out_dir)}; use --overwrite to replace them, or another --out"
        )
    probe = _partial_dir(out_dir)
    try:
        probe.mkdir(parents=True)
        (probe / "probe").write_bytes(b"glucosim")
    except OSError as exc:
        raise OutputError(f"{out_dir}: cannot write results here: {exc.strerror or exc}") from None
    finally:
        shutil.rmtree(probe, ignore_errors=True)


def _partial_dir(out_dir: Path) -> Path:
    return temporary_beside(out_dir)  # its host and PID tell a live writer (left_by_dead_writer)


def _abandoned(out_dir: Path):
    """The hidden folders beside ``out_dir`` that no live save owns: partial folders a dead writer of this machine
    left, and runs a swap moved aside (a live writer's partial folder, or another machine's, is not yielded)."""
    for prefix in (f".{out_dir.name}{_PARTIAL}", f".{out_dir.name}{_OLD}"):
        # escaped: an --out name with [ or * matched other outputs' folders
        for folder in out_dir.parent.glob(f"{glob_escape(prefix)}*"):
            if prefix.endswith(_PARTIAL) and not left_by_dead_writer(folder.name):
                continue
            yield folder


def _remove_stale(out_dir: Path) -> None:
    """Folders of earlier saves that were killed before their rename (a live process's are left alone)."""
    if not out_dir.parent.is_dir():
        return
    for stale in _abandoned(out_dir):
        shutil.rmtree(stale, ignore_errors=True)


def file_record(path: Path) -> dict:
    """A file's size and SHA-256, as completion markers and records list them: {"bytes": ..., "sha256": ...}."""
    return {"bytes": path.stat().st_size, "sha256": file_sha256(path)}


def file_sha256(path: Path) -> str:
    """SHA-256 of a file, read in blocks (also verifies sweep chunks: glucosim.sweep.store)."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _write_files(result, folder: Path, figures: bool) -> dict[str, str]:
    names = {"summary": SUMMARY_FILE, "daily": DAILY_FILE, "yearly": YEARLY_FILE, "scenario": SCENARIO_COPY}
    (folder / SUMMARY_FILE).write_text(json.dumps(result.summary, indent=2) + "\n")
    result.daily.to_csv(folder / DAILY_FILE, index=False, float_format="%.6g")
    result.yearly.to_csv(folder / YEARLY_FILE, index=False, float_format="%.6g")
    (folder / SCENARIO_COPY).write_text(result.loaded.saved_text)  # what ran, also for a changed copy
    if result.clinic:
        import pandas as pd

        frames = [visit.samples.assign(protocol=visit.protocol.protocol.name, day=visit.day) for visit in result.clinic]
        names["clinic"] = CLINIC_FILE
        pd.concat(frames, ignore_index=True).to_csv(folder / CLINIC_FILE, index=False, float_format="%.6g")
    if figures:
        import matplotlib

        matplotlib.use("Agg", force=False)
        import matplotlib.pyplot as plt

        for key, name, draw in (
            ("progression_figure", PROGRESSION_FIGURE, result.plot_progression),
            ("day_figure", DAY_FIGURE, result.plot_day),
        ):
            figure = draw()
            names[key] = name
            figure.savefig(folder / name)
            plt.close(figure)
    return names


def write_result(result, out_dir: Path, figures: bool = True, overwrite: bool = True, trace_days=()) -> dict[str, Path]:
    """Write summary.json, daily.csv, yearly.csv, a copy of the scenario, (optionally) figures and the
    completion marker, as one folder that appears whole at ``out_dir``.

    Args:
        overwrite: replace a previous run in ``out_dir`` (never a sweep or a foreign folder).
        trace_days: days whose 5-minute traces (``traces/``) and CGM metrics to write with the rest.

    Returns:
        name -> path of each file written (in ``out_dir``).

    Raises:
        OutputError: ``out_dir`` cannot take the result, or writing failed (disk full, permissions);
            the message names the folder, and nothing is left half-written at ``out_dir``.
    """
    out_dir = Path(out_dir)
    _recover_interrupted_swap(out_dir)  # before the check: a recovered run is replaced only when asked
    check_output_dir(out_dir, overwrite=overwrite)
    _remove_stale(out_dir)
    partial = _partial_dir(out_dir)
    try:
        partial.mkdir(parents=True)
        names = _write_files(result, partial, figures)
        # the midnight states, so SimulationResult.load (figure --from) can recompute traces without the run
        names["midnight_states"] = result.write_midnight_states(partial).name
        if trace_days:
            # inside the partial folder, so traces are published with the rest or not at all
            traces = result.write_traces(partial, trace_days)
            names.update({key: str(path.relative_to(partial)) for key, path in traces.items()})
        marker = {
            "complete": True,
            "scenario": result.summary.get("scenario"),
            "plausible": (result.summary.get("plausibility") or {}).get("plausible"),
            "created_utc": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
            "files": {name: file_record(partial / name) for name in names.values()},
        }
        (partial / COMPLETE_FILE).write_text(json.dumps(marker, indent=2) + "\n")
        _fsync_tree(partial)
        _swap_in(partial, out_dir)
    except OSError as exc:
        shutil.rmtree(partial, ignore_errors=True)
        raise OutputError(f"{out_dir}: could not write the results: {exc.strerror or exc}") from None
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)
        raise
    return {key: out_dir / name for key, name in names.items()} | {"complete": out_dir / COMPLETE_FILE}


def _fsync_tree(folder: Path) -> None:
    """Flush the files before the rename publishes them (a power cut must not publish empty files)."""
    for path in folder.rglob("*"):
        if not path.is_file():
            continue
        with open(path, "rb") as handle:
            os.fsync(handle.fileno())


def _swap_in(partial: Path, out_dir: Path) -> None:
    """Rename ``partial`` to ``out_dir``; an existing run is moved aside first and removed after."""
    if output_kind(out_dir) in ("missing", "empty"):
        os.replace(partial, out_dir)  # onto a missing or empty folder: one atomic step
        return
    old = out_dir.parent / f".{out_dir.name}{_OLD}{uuid.uuid4().hex[:8]}"
    try:
        os.replace(out_dir, old)
        os.replace(partial, out_dir)
    except OSError:
        if not out_dir.exists() and old.exists():
            os.replace(old, out_dir)  # put the previous run back
        raise
    except BaseException:
        # an interrupt between the two renames left out_dir missing and the new, complete run about to be removed
        # by the caller: finish the swap (the run asked for), or put the previous run back if that fails
        if not out_dir.exists():
            try:
                os.replace(partial, out_dir)
            except OSError:
                if old.exists():
                    os.replace(old, out_dir)
        raise
    shutil.rmtree(old, ignore_errors=True)


def _recover_interrupted_swap(out_dir: Path) -> None:
    """A run killed between ``_swap_in``'s two renames left ``out_dir`` missing and both complete runs hidden: put
    the newer complete one back at ``out_dir`` (the new run, else the one it was replacing) before anything removes
    them. The next save then finds a run there and replaces it only when asked."""
    if out_dir.exists() or not out_dir.parent.is_dir():
        return
    candidates = []
    for hidden in _abandoned(out_dir):
        try:
            verify_result(hidden)
        except OutputError:
            continue  # not a complete run: _remove_stale removes it
        candidates.append(hidden)
    if candidates:
        newest = max(candidates, key=lambda folder: (folder / COMPLETE_FILE).stat().st_mtime)
        os.replace(newest, out_dir)


def verify_result(out_dir: Path) -> dict:
    """The completion marker of the run in ``out_dir``, after checking every file's size and checksum.

    Raises:
        OutputError: no marker (the run is incomplete or predates markers) or a file differs from it.
    """
    out_dir = Path(out_dir)
    marker_path = out_dir / COMPLETE_FILE
    if not marker_path.is_file():
        raise OutputError(f"{out_dir}: no {COMPLETE_FILE}: not a complete run (rerun it)")
    try:
        marker = json.loads(marker_path.read_text())
    except (ValueError, UnicodeDecodeError):
        raise OutputError(f"{marker_path}: unreadable completion marker (rerun the run)") from None
    for name, expected in marker["files"].items():
        path = out_dir / name
        if not path.is_file() or path.stat().st_size != expected["bytes"] or file_sha256(path) != expected["sha256"]:
            raise OutputError(f"{path}: missing or changed since the run finished (rerun the run)")
    return marker
