"""Self-healing sweeps: corrupt chunks, results and manifests, a full disk, kills, orphans, size limits, growth.

Cases from issue 14, items 3, 5 and 6, and issue 13's in-place growth (each reproduced before the fix).
"""

from __future__ import annotations

import errno
import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas.testing as pdt
import pytest
from click.testing import CliRunner

from glucosim.cli import main
from glucosim.errors import SweepError
from glucosim.sweep import load_results, run_sweep
from glucosim.sweep.store import CHUNK_DIR, CORRUPT_SUFFIX, MANIFEST_FILE, RESULTS_FILE, chunk_name
from tests._sweep_helpers import comparable, write_sweep

REPO = Path(__file__).resolve().parent.parent
BASE = 'name = "b"\nduration_days = 20\n[[routine.meals]]\ntime_h = 8\ncarbs_g = 70\n'
SMALL = """
name = "small"
base_scenario = "base.toml"
seed = 3
[design]
kind = "grid"
[[variables]]
parameter = "insulin_sensitivity_whole_body"
unit = "1"
values = [0.6, 1.0, 1.4]
"""
COHORT = """
name = "cohort"
base_scenario = "base.toml"
seed = 5
[design]
kind = "cohort"
samples = {samples}
[[variables]]
parameter = "insulin_sensitivity_whole_body"
unit = "1"
distribution = "lognormal"
median = 0.8
gsd = 1.3
"""


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    """The small sweep (3 runs of 20 days, one per chunk) and its results, run once."""
    root = tmp_path_factory.mktemp("faults")
    path = write_sweep(root / "input", SMALL, BASE)
    run_sweep(path, root / "reference", workers=1, chunk_runs=1, progress=False)
    return path, comparable(load_results(root / "reference"))


def _copy(reference_dir: Path, to: Path) -> Path:
    import shutil

    shutil.copytree(reference_dir, to)
    return to


def _resume(path, out, lines=None):
    lines = [] if lines is None else lines
    outcome = run_sweep(path, out, workers=1, progress=False, announce=lines.append)
    return outcome, lines


@pytest.mark.parametrize(
    "damage",
    [
        pytest.param(lambda p: p.write_bytes(p.read_bytes()[: len(p.read_bytes()) // 2]), id="truncated"),
        pytest.param(lambda p: p.write_bytes(b""), id="empty"),
        pytest.param(lambda p: p.write_bytes(bytes(len(p.read_bytes()))), id="zeroed"),
        pytest.param(lambda p: p.unlink(), id="missing"),
    ],
)
def test_a_damaged_chunk_is_set_aside_and_run_again(reference, tmp_path, damage):
    path, expected = reference
    out = _copy(path.parent.parent / "reference", tmp_path / "out")
    (out / RESULTS_FILE).unlink()  # as if killed before consolidation
    chunk = out / CHUNK_DIR / chunk_name(1)
    damage(chunk)
    outcome, lines = _resume(path, out)
    assert outcome.complete and outcome.runs_this_call == 1
    if chunk.with_name(chunk.name + CORRUPT_SUFFIX).exists():
        assert any("chunk 1" in line and "run again" in line for line in lines)
    pdt.assert_frame_equal(comparable(load_results(out)), expected)


def test_analyze_of_a_sweep_with_a_truncated_chunk_says_so_without_a_traceback(reference, tmp_path):
    # before: a pyarrow traceback on every call of glucosim analyze
    path, _ = reference
    out = _copy(path.parent.parent / "reference", tmp_path / "out")
    (out / RESULTS_FILE).unlink()
    chunk = out / CHUNK_DIR / chunk_name(0)
    chunk.write_bytes(chunk.read_bytes()[:64])
    result = CliRunner().invoke(main, ["analyze", str(out), "--no-figures"])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert "chunk 0 (chunks/chunk-000000.parquet)" in result.output and "set aside" in result.output


def test_a_chunk_without_its_record_is_adopted_if_whole(reference, tmp_path):
    # killed between writing a chunk and its record: the chunk is whole and kept
    path, expected = reference
    out = _copy(path.parent.parent / "reference", tmp_path / "out")
    (out / CHUNK_DIR / "chunk-000002.json").unlink()
    (out / RESULTS_FILE).unlink()
    outcome, _ = _resume(path, out)
    assert outcome.complete and outcome.runs_this_call == 0
    assert (out / CHUNK_DIR / "chunk-000002.json").is_file()
    pdt.assert_frame_equal(comparable(load_results(out)), expected)


def test_a_corrupt_results_file_is_rebuilt(reference, tmp_path):
    path, expected = reference
    out = _copy(path.parent.parent / "reference", tmp_path / "out")
    final = out / RESULTS_FILE
    final.write_bytes(final.read_bytes()[:100])
    lines = []
    from glucosim.sweep.store import SweepStore

    # reading falls back to the chunks (and says so) ...
    from_chunks = comparable(SweepStore(out, announce=lines.append).load_results())
    pdt.assert_frame_equal(from_chunks, expected, check_dtype=False)  # chunks keep pandas' string dtype
    assert any("corrupt or truncated; it is rebuilt" in line for line in lines)
    # ... and rerunning the sweep rebuilds it without running anything
    outcome, _ = _resume(path, out)
    assert outcome.runs_this_call == 0
    pdt.assert_frame_equal(comparable(load_results(out)), expected)
    assert json.loads((out / MANIFEST_FILE).read_text())["results"]["bytes"] == final.stat().st_size


def test_a_corrupt_manifest_names_the_file_and_the_way_back(reference, tmp_path):
    path, expected = reference
    out = _copy(path.parent.parent / "reference", tmp_path / "out")
    manifest = out / MANIFEST_FILE
    manifest.write_text(manifest.read_text()[:40])
    with pytest.raises(SweepError) as info:
        _resume(path, out)
    assert str(manifest) in str(info.value) and "move it away" in str(info.value)
    result = CliRunner().invoke(main, ["analyze", str(out), "--no-figures"])
    assert result.exit_code == 2 and "corrupt sweep manifest" in result.output and "Traceback" not in result.output
    manifest.rename(out / "manifest.json.bad")  # the recovery the message gives
    (out / RESULTS_FILE).unlink()
    outcome, _ = _resume(path, out)
    assert outcome.complete and outcome.runs_this_call == 0  # every finished chunk kept
    pdt.assert_frame_equal(comparable(load_results(out)), expected)


def test_a_full_disk_stops_the_sweep_cleanly_and_a_rerun_heals(reference, tmp_path, monkeypatch):
    import pandas as pd

    path, expected = reference
    real = pd.DataFrame.to_parquet
    calls = {"n": 0}

    def full_disk(self, target, *args, **kwargs):
        if "chunk-000001" in str(target):
            calls["n"] += 1
            real(self, target, *args, **kwargs)
            raise OSError(errno.ENOSPC, "No space left on device")
        return real(self, target, *args, **kwargs)

    monkeypatch.setattr(pd.DataFrame, "to_parquet", full_disk)
    out = tmp_path / "out"
    with pytest.raises(SweepError, match="could not write chunk 1: No space left on device; finished chunks are kept"):
        run_sweep(path, out, workers=1, chunk_runs=1, progress=False)
    assert sorted(p.name for p in (out / CHUNK_DIR).iterdir()) == ["chunk-000000.json", "chunk-000000.parquet"]
    monkeypatch.setattr(pd.DataFrame, "to_parquet", real)
    outcome, _ = _resume(path, out)
    assert outcome.complete and outcome.runs_this_call == 2
    pdt.assert_frame_equal(comparable(load_results(out)), expected)


# ------------------------------------------------------------------ size limits
def test_a_huge_grid_is_refused_at_once(tmp_path):
    text = SMALL.replace("values = [0.6, 1.0, 1.4]", "range = [0.5, 1.5]\nlevels = 1000")
    for name in ("beta_function_max", "body_weight"):
        low, high = (1.2, 3.0) if name == "beta_function_max" else (60.0, 90.0)
        unit = "1" if name == "beta_function_max" else "kg"
        text += f'[[variables]]\nparameter = "{name}"\nunit = "{unit}"\nrange = [{low}, {high}]\nlevels = 1000\n'
    started = time.perf_counter()
    with pytest.raises(SweepError, match=r"1,000,000,000 runs is more than any sweep may have"):
        run_sweep(write_sweep(tmp_path, text, BASE), tmp_path / "out", workers=1, progress=False)
    assert time.perf_counter() - started < 60.0  # refused before any design is made (MemoryError after minutes)
    assert not (tmp_path / "out").exists()


def test_a_large_sweep_states_its_plan_and_needs_yes(tmp_path):
    text = SMALL.replace('kind = "grid"', 'kind = "latin_hypercube"\nsamples = 20000').replace(
        "values = [0.6, 1.0, 1.4]", "range = [0.5, 1.5]"
    )
    result = CliRunner().invoke(main, ["sweep", str(write_sweep(tmp_path, text, BASE)), "--out", str(tmp_path / "o")])
    assert result.exit_code == 2 and "20,000 runs" in result.output and "--yes" in result.output
    assert "MB on disk" in result.output and "worker(s)" in result.output
    assert not (tmp_path / "o").exists()


# ------------------------------------------------------------------ growing in place (issue 13)
@pytest.mark.slow  # three sweeps
def test_a_cohort_grows_in_place_and_keeps_its_first_patients(tmp_path):
    small = write_sweep(tmp_path / "a", COHORT.format(samples=3), BASE)
    out = tmp_path / "out"
    run_sweep(small, out, workers=1, chunk_runs=2, progress=False)
    before = comparable(load_results(out))
    grown = write_sweep(tmp_path / "a", COHORT.format(samples=5), BASE)
    lines = []
    outcome = run_sweep(grown, out, workers=1, progress=False, announce=lines.append)
    # runs 0-1 (chunk 0) are kept; chunk 1 held one run and now holds two: run again; chunk 2 is new
    assert outcome.complete and outcome.n_runs == 5 and outcome.runs_this_call == 3
    assert any("growing the cohort" in line and "from 3 to 5 patients" in line for line in lines)
    after = comparable(load_results(out))
    pdt.assert_frame_equal(after.iloc[:3].reset_index(drop=True), before)
    fresh = tmp_path / "fresh"
    run_sweep(grown, fresh, workers=1, chunk_runs=2, progress=False)
    pdt.assert_frame_equal(after, comparable(load_results(fresh)))


@pytest.mark.slow  # two small sweeps
def test_a_folder_that_predates_the_code_hash_says_so_and_a_growth_does_not_stamp_it(tmp_path):
    """A folder written before sweep folders recorded the code (results_source_sha256) resumes with a notice, and
    growing it keeps the key absent: stamping today's code on chunks of unknown code would pass them in every later
    check (a review of 2026-12-05)."""
    small = write_sweep(tmp_path / "a", COHORT.format(samples=3), BASE)
    out = tmp_path / "out"
    run_sweep(small, out, workers=1, chunk_runs=2, progress=False)
    manifest = json.loads((out / MANIFEST_FILE).read_text())
    del manifest["results_source_sha256"]
    (out / MANIFEST_FILE).write_text(json.dumps(manifest))
    lines = []
    resumed = run_sweep(small, out, workers=1, chunk_runs=2, progress=False, announce=lines.append)
    assert resumed.complete and resumed.runs_this_call == 0
    assert any("written before sweep folders recorded the code" in line for line in lines)
    grown = write_sweep(tmp_path / "a", COHORT.format(samples=5), BASE)
    run_sweep(grown, out, workers=1, progress=False, announce=lines.append)
    assert "results_source_sha256" not in json.loads((out / MANIFEST_FILE).read_text())


@pytest.mark.slow  # two small sweeps
def test_a_growth_stopped_before_its_manifest_leaves_copies_that_agree_on_resume(tmp_path, monkeypatch):
    """A growth writes the larger sweep's copy and design, then its manifest; killed between them and resumed with
    the original file, the folder said 'complete' with a sweep.toml of 5 patients and a design of 5 runs beside a
    manifest of 3 (an interrupted-run hunt, 2026-12-05). The resume now rewrites the copies that disagree."""
    import pandas as pd

    from glucosim.sweep.store import SweepStore

    small = write_sweep(tmp_path / "a", COHORT.format(samples=3), BASE)
    small_text = small.read_text()
    out = tmp_path / "out"
    run_sweep(small, out, workers=1, progress=False)
    grown = write_sweep(tmp_path / "b", COHORT.format(samples=5), BASE)

    def killed(self, manifest):
        raise KeyboardInterrupt

    monkeypatch.setattr(SweepStore, "_write_manifest", killed)
    with pytest.raises(KeyboardInterrupt):
        run_sweep(grown, out, workers=1, progress=False)
    monkeypatch.undo()
    lines = []
    outcome = run_sweep(small, out, workers=1, progress=False, announce=lines.append)
    assert outcome.complete and outcome.n_runs == 3
    assert (out / "sweep.toml").read_text() == small_text
    assert len(pd.read_parquet(out / "design.parquet")) == 3
    assert any("a growth of the cohort stopped half-way" in line for line in lines)


def test_a_design_that_cannot_grow_says_why(tmp_path):
    text = SMALL.replace('kind = "grid"', 'kind = "latin_hypercube"\nsamples = 2').replace(
        "values = [0.6, 1.0, 1.4]", "range = [0.5, 1.5]"
    )
    out = tmp_path / "out"
    run_sweep(write_sweep(tmp_path, text, BASE), out, workers=1, progress=False)
    with pytest.raises(SweepError, match=r"'latin_hypercube' design cannot grow in place: its samples depend"):
        run_sweep(write_sweep(tmp_path, text.replace("samples = 2", "samples = 3"), BASE), out, workers=1)


# ------------------------------------------------------------------ processes
def _children(pid: int) -> set[int]:
    found = set()
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                fields = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                found.add(int(entry))
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def _sweep_command(path, out, *extra):
    env = {**os.environ, "PYTHONPATH": str(REPO / "src") + os.pathsep + str(REPO)}
    command = [sys.executable, "-c", "from glucosim.cli import main; main()", "sweep", str(path), "--out", str(out)]
    return [*command, "--no-progress", *extra], env


def _descendants(pid: int) -> set[int]:
    found, frontier = set(), {pid}
    while frontier:
        frontier = set().union(*map(_children, frontier)) - found
        found |= frontier
    return found


@pytest.mark.slow  # ~20 s on the loaded 2-core machine: the fork server must import and warm up first
@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads /proc")
def test_workers_die_with_a_killed_sweep(tmp_path):
    # the workers are the fork server's children, not the sweep's: every process the sweep started, at any depth,
    # must end (the workers by their lifeline, the fork server once no one holds its pipe, the resource tracker).
    # Twelve runs of 60 years, so the sweep is still running when it is killed (checked: a sweep that had already
    # finished would pass without testing anything, as six runs of 2000 days did once workers started at once)
    values = ", ".join(f"{0.5 + 0.1 * k:.1f}" for k in range(12))
    text = SMALL.replace("values = [0.6, 1.0, 1.4]", f"values = [{values}]")
    path = write_sweep(tmp_path, text, BASE.replace("duration_days = 20", "duration_days = 21900"))
    out = tmp_path / "out"
    command, env = _sweep_command(path, out, "--workers", "2", "--chunk-runs", "1")
    parent = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 180.0
    started: set[int] = set()
    while time.monotonic() < deadline and not list((out / CHUNK_DIR).glob("chunk-*.parquet")):
        time.sleep(0.25)  # until the workers have finished a chunk: they are running
        started |= _descendants(parent.pid)
    started |= _descendants(parent.pid)
    assert len(started) >= 3, f"the workers never started (processes under the sweep: {sorted(started)})"
    assert parent.poll() is None, "the sweep finished before it was killed: make its runs longer"
    parent.send_signal(signal.SIGKILL)
    parent.wait()
    assert not (out / RESULTS_FILE).exists()
    deadline = time.monotonic() + 20.0
    while time.monotonic() < deadline and any(map(_alive, started)):
        time.sleep(0.25)
    left = [pid for pid in started if _alive(pid)]
    for pid in left:  # clean up before failing
        os.kill(pid, signal.SIGKILL)
    assert not left, f"orphans left after SIGKILL of the sweep: {left}"


SWEEP_KILLS = 3
"""Sweeps killed at random moments (start-up, running, writing, consolidating)."""


@pytest.mark.slow
def test_sweeps_killed_at_random_moments_resume_to_the_same_results(tmp_path):
    # six runs of 300 days (about a second each), so kills land at start-up, mid-sweep and near the end
    text = SMALL.replace("values = [0.6, 1.0, 1.4]", "values = [0.5, 0.7, 0.9, 1.1, 1.3, 1.5]")
    path = write_sweep(tmp_path / "input", text, BASE.replace("duration_days = 20", "duration_days = 300"))
    run_sweep(path, tmp_path / "reference", workers=1, chunk_runs=1, progress=False)
    expected = comparable(load_results(tmp_path / "reference"))
    rng = random.Random(13)
    for k in range(SWEEP_KILLS):
        out = tmp_path / f"out{k}"
        command, env = _sweep_command(path, out, "--workers", "1", "--chunk-runs", "1")
        process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:  # a sweep that finished before its kill moment is not killed: no need to sleep on to that moment
            process.wait(timeout=rng.uniform(3.0, 15.0))
        except subprocess.TimeoutExpired:
            pass
        process.send_signal(signal.SIGKILL)
        process.wait()
        chunks = list((out / CHUNK_DIR).glob("chunk-*.parquet")) if (out / CHUNK_DIR).is_dir() else []
        print(f"sweep kill {k}: {len(chunks)} of 6 chunks written, results {(out / RESULTS_FILE).exists()}")
        healed = subprocess.run(command, env=env, capture_output=True, text=True)
        assert healed.returncode == 0, healed.stderr
        pdt.assert_frame_equal(comparable(load_results(out)), expected)


def test_chunk_tasks_are_made_only_as_workers_take_them():
    import concurrent.futures as cf

    from glucosim.sweep.backends import _bounded

    made = []

    def tasks():
        for index in range(1000):
            made.append(index)
            yield index

    class Immediate(cf.Executor):
        def submit(self, fn, *args):
            future = cf.Future()
            future.set_result((args[0], None, None))
            return future

    first = next(_bounded(Immediate(), tasks(), lambda: 4))
    assert first[0] in range(4) and len(made) == 4  # not 1000


def test_an_unwritable_sweep_folder_is_one_line_before_any_run(reference, tmp_path):
    path, _ = reference
    blocker = tmp_path / "a_file"
    blocker.write_text("")
    result = CliRunner().invoke(main, ["sweep", str(path), "--out", str(blocker / "out"), "--no-progress"])
    assert result.exit_code == 2 and "cannot write the sweep's folder: Not a directory" in result.output
    assert "Traceback" not in result.output
