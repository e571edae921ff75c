"""Run outputs are all there or not there: atomic folders, no mixing, writability first, kill and full-disk faults.

Cases from issue 14, items 4 and 6 (each reproduced with the CLI before the fix).
"""

import errno
import json
import os
import random
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from glucosim.cli import main
from glucosim.io.results import COMPLETE_FILE, OutputError, verify_result, write_result

SCENARIO = 'name = "{name}"\nduration_days = {days}\n[[routine.meals]]\ntime_h = 8\ncarbs_g = 75\n'
CLINIC = '\n[[clinic]]\nprotocol = "ogtt_75g"\nat_years = [0]\n'
REPO = Path(__file__).resolve().parent.parent


def _scenario(tmp_path, name="a", days=2, extra="") -> Path:
    path = tmp_path / f"{name}.toml"
    path.write_text(SCENARIO.format(name=name, days=days) + extra)
    return path


def _run(*args):
    return CliRunner().invoke(main, ["run", *map(str, args), "--no-progress"])


def test_a_second_run_is_refused_then_replaces_the_first_whole(tmp_path):
    out = tmp_path / "out"
    first = _run(_scenario(tmp_path, "first", extra=CLINIC), "--out", out, "--no-figures")
    assert first.exit_code == 0, first.output
    assert (out / "clinic_samples.csv").is_file()
    second = _scenario(tmp_path, "second")
    refused = _run(second, "--out", out, "--no-figures")
    assert refused.exit_code == 2 and "holds the results of a run of 'first'; use --overwrite" in refused.output
    assert json.loads((out / "summary.json").read_text())["scenario"] == "first"  # untouched
    replaced = _run(second, "--out", out, "--no-figures", "--overwrite")
    assert replaced.exit_code == 0, replaced.output
    # nothing of the first run is left beside the second (its clinic file was)
    assert sorted(p.name for p in out.iterdir()) == sorted([*verify_result(out)["files"], COMPLETE_FILE])
    assert json.loads((out / "summary.json").read_text())["scenario"] == "second"
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".out.")]  # no temporary folders left


def test_run_and_sweep_folders_are_never_mixed(tmp_path):
    from glucosim.sweep import run_sweep
    from tests._sweep_helpers import write_sweep

    run_dir = tmp_path / "run"
    assert _run(_scenario(tmp_path), "--out", run_dir, "--no-figures").exit_code == 0
    sweep = write_sweep(tmp_path / "input", base_text=SCENARIO.format(name="b", days=1))
    from glucosim.errors import SweepError

    with pytest.raises(SweepError, match="holds the results of a glucosim run"):
        run_sweep(sweep, run_dir, workers=1, progress=False)
    sweep_dir = tmp_path / "sweep"
    (sweep_dir).mkdir()
    (sweep_dir / "manifest.json").write_text("{}")
    refused = _run(_scenario(tmp_path), "--out", sweep_dir, "--overwrite")
    assert refused.exit_code == 2 and "holds a sweep's results" in refused.output
    foreign = tmp_path / "home"
    foreign.mkdir()
    (foreign / "thesis.tex").write_text("precious")
    refused = _run(_scenario(tmp_path), "--out", foreign, "--overwrite")
    assert refused.exit_code == 2 and "holds no glucosim run" in refused.output
    assert (foreign / "thesis.tex").read_text() == "precious"


def test_an_unwritable_output_is_found_before_simulating(tmp_path, monkeypatch):
    import glucosim.simulation.run as run_module

    def never(*args, **kwargs):
        raise AssertionError("simulated before checking the output folder")

    monkeypatch.setattr(run_module, "simulate", never)
    blocker = tmp_path / "a_file"
    blocker.write_text("")
    result = _run(_scenario(tmp_path), "--out", blocker / "out")
    assert result.exit_code == 2 and "cannot write results here" in result.output
    # a read-only folder (simulated: tests run as root, where permissions do not stop writes)
    real_mkdir = Path.mkdir

    def read_only(self, *args, **kwargs):
        if "partial" in self.name:
            raise PermissionError(errno.EACCES, "Permission denied", str(self))
        return real_mkdir(self, *args, **kwargs)

    monkeypatch.setattr(Path, "mkdir", read_only)
    result = _run(_scenario(tmp_path), "--out", tmp_path / "ro" / "out")
    assert result.exit_code == 2 and "cannot write results here: Permission denied" in result.output


def test_a_full_disk_leaves_no_half_written_result(tmp_path, monkeypatch, make_scenario):
    import pandas as pd

    import glucosim

    result = glucosim.simulate(make_scenario(duration_days=2), progress=False)
    out = tmp_path / "out"
    write_result(result, out, figures=False)
    before = verify_result(out)
    calls = {"n": 0}
    real = pd.DataFrame.to_csv

    def full_disk(self, *args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 2:  # daily.csv went through, yearly.csv hits a full disk
            raise OSError(errno.ENOSPC, "No space left on device")
        return real(self, *args, **kwargs)

    monkeypatch.setattr(pd.DataFrame, "to_csv", full_disk)
    with pytest.raises(OutputError, match="could not write the results: No space left on device"):
        write_result(result, out, figures=False)
    assert verify_result(out) == before  # the previous complete run is intact
    assert not [p for p in tmp_path.iterdir() if p.name != "out"]  # and no partial folder is left


def test_verify_result_catches_a_truncated_file(tmp_path, make_scenario):
    import glucosim

    out = tmp_path / "out"
    write_result(glucosim.simulate(make_scenario(duration_days=2), progress=False), out, figures=False)
    daily = out / "daily.csv"
    daily.write_bytes(daily.read_bytes()[:50])
    with pytest.raises(OutputError, match="daily.csv: missing or changed"):
        verify_result(out)


KILLS = 4
"""Runs killed at random moments (from start-up to saving)."""


def _wait_at_most(process: subprocess.Popen, seconds: float) -> None:
    """Let ``process`` run until the kill moment ``seconds`` from now, or until it exits if that is sooner.

    A run that has finished before its kill moment is not killed (SIGKILL of an exited process changes nothing), so
    sleeping on to the moment after it exited only cost wall time: on an idle machine the 200-day run ends before
    most of the moments drawn below.
    """
    try:
        process.wait(timeout=seconds)
    except subprocess.TimeoutExpired:
        pass


@pytest.mark.slow
def test_runs_killed_at_random_moments_leave_nothing_half_written_and_a_rerun_heals(tmp_path):
    scenario = _scenario(tmp_path, "killed", days=200)
    env = {**os.environ, "PYTHONPATH": str(REPO / "src") + os.pathsep + str(REPO)}
    command = [sys.executable, "-c", "from glucosim.cli import main; main()", "run", str(scenario), "--no-progress"]
    rng = random.Random(14)
    outcomes = []
    for k in range(KILLS):
        out = tmp_path / f"out{k}"
        process = subprocess.Popen([*command, "--out", str(out)], env=env, stderr=subprocess.DEVNULL)
        _wait_at_most(process, rng.uniform(2.0, 16.0))
        saving = any(p.name.startswith(f".out{k}.partial-") for p in tmp_path.iterdir())
        process.send_signal(signal.SIGKILL)
        process.wait()
        if out.exists():  # finished before the kill: must be whole
            verify_result(out)
            outcomes.append("complete")
        else:
            outcomes.append("absent, killed while saving" if saving else "absent")
        healed = subprocess.run([*command, "--out", str(out), "--overwrite"], env=env, capture_output=True, text=True)
        assert healed.returncode == 0, healed.stderr
        verify_result(out)
        assert not [p for p in tmp_path.iterdir() if p.name.startswith(f".out{k}.")]
    print(f"run kills: {outcomes}")


def test_every_whole_file_write_uses_one_temporary_scheme(tmp_path):
    """The sweep store, the calibration cache and reports write through ``glucosim._files.write_whole``: the
    temporary is hidden, node-unique and recognisable, and a failed write leaves neither it nor a partial file."""
    import pandas as pd

    from glucosim._files import is_temporary, temporary_beside, write_whole
    from glucosim.calibration.cache import atomic_write_json
    from glucosim.sweep.store import write_parquet_atomically

    first, second = temporary_beside(tmp_path / "a.json"), temporary_beside(tmp_path / "a.json")
    assert first != second and is_temporary(first.name) and first.parent == tmp_path
    assert not is_temporary("a.json") and not is_temporary(".hidden")

    import glucosim._files as files
    import glucosim.sweep.store as store

    written = []

    def spy(path, write):
        written.append(Path(path).name)
        return real_write_whole(path, write)

    real_write_whole = files.write_whole
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(files, "write_whole", spy)
        patch.setattr(store, "write_whole", spy)
        atomic_write_json(tmp_path / "cache" / "entry.json", {"b": 1.0, "a": [1, 2]})
        write_parquet_atomically(pd.DataFrame({"x": [1.0, 2.0]}), tmp_path / "table.parquet")
    assert written == ["entry.json", "table.parquet"]  # both went through the one helper
    assert json.loads((tmp_path / "cache" / "entry.json").read_text()) == {"a": [1, 2], "b": 1.0}
    assert pd.read_parquet(tmp_path / "table.parquet")["x"].tolist() == [1.0, 2.0]

    def fail_halfway(partial):
        partial.write_text("half")
        raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        write_whole(tmp_path / "report.md", fail_halfway)
    names = sorted(p.name for p in tmp_path.rglob("*"))
    assert not [name for name in names if is_temporary(name)]
    assert "report.md" not in names


def test_a_killed_writers_temporary_is_removed_and_a_live_or_foreign_one_kept(tmp_path):
    """A SIGKILL leaves a writer no time to remove its temporary: a sweep's resume removes those of dead processes
    of this machine, never a live writer's or another node's (a shared file system)."""
    import socket

    from glucosim._files import TEMPORARY_MARK, remove_dead_temporaries, temporary_beside

    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    host = socket.gethostname()
    killed = tmp_path / f".chunk-000001.json{TEMPORARY_MARK}{host}-{int(dead.stdout)}-{'a' * 32}"
    live = temporary_beside(tmp_path / "chunk-000002.json")  # this process's
    foreign = tmp_path / f".chunk-000003.json{TEMPORARY_MARK}other-node-{int(dead.stdout)}-{'b' * 32}"
    finished = tmp_path / "chunk-000004.json"
    for path in (killed, live, foreign, finished):
        path.write_text("{}")
    assert remove_dead_temporaries(tmp_path) == [killed.name]
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(p.name for p in (live, foreign, finished))


def test_load_refuses_a_run_whose_files_differ_from_its_marker(tmp_path):
    """SimulationResult.load never checked COMPLETE.json: a truncated daily.csv (an interrupted copy) loaded part
    of the run and drew its figure without a word (an interrupted-run hunt, 2026-12-05)."""
    from glucosim import SimulationResult
    from glucosim.errors import ResultError

    out = tmp_path / "out"
    assert _run(_scenario(tmp_path, days=3), "--out", out, "--no-figures").exit_code == 0
    assert len(SimulationResult.load(out).daily) == 3
    daily = out / "daily.csv"
    daily.write_text("".join(daily.read_text().splitlines(keepends=True)[:2]))  # the header and one day
    with pytest.raises(ResultError, match=r"daily.csv: missing or changed since the run finished"):
        SimulationResult.load(out)
    (out / COMPLETE_FILE).unlink()
    with pytest.raises(ResultError, match=r"no COMPLETE.json: not a complete run"):
        SimulationResult.load(out)


def test_an_interrupt_between_the_two_renames_of_a_replace_leaves_the_new_run(tmp_path, monkeypatch):
    """--overwrite moves the old run aside, then the new one in. Ctrl-C between the two renames removed the new,
    complete run and left --out missing, the old one hidden (an interrupted-run hunt, 2026-12-05)."""
    import glucosim.io.results as results_module

    out = tmp_path / "out"
    assert _run(_scenario(tmp_path, "old"), "--out", out, "--no-figures").exit_code == 0
    real_replace = os.replace
    calls = []

    def interrupted_once(source, target):
        calls.append((Path(source).name, Path(target).name))
        if Path(target) == out and len(calls) == 2:  # the second rename: the new run into place
            raise KeyboardInterrupt
        return real_replace(source, target)

    monkeypatch.setattr(results_module.os, "replace", interrupted_once)
    interrupted = _run(_scenario(tmp_path, "new"), "--out", out, "--no-figures", "--overwrite")
    assert isinstance(interrupted.exception, KeyboardInterrupt) or interrupted.exit_code != 0
    monkeypatch.setattr(results_module.os, "replace", real_replace)
    assert verify_result(out)["scenario"] == "new"  # the swap was finished: the run asked for is in place


def test_a_run_killed_between_the_two_renames_is_put_back_before_anything_removes_it(tmp_path):
    """SIGKILL between the renames left --out missing and both complete runs hidden; the next run, needing no
    --overwrite, removed both. Now the newer complete run is put back first, and replaced only when asked."""
    out = tmp_path / "out"
    assert _run(_scenario(tmp_path, "old"), "--out", out, "--no-figures").exit_code == 0
    os.replace(out, tmp_path / ".out.replaced-0123abcd")  # as the kill left it
    refused = _run(_scenario(tmp_path, "next"), "--out", out, "--no-figures")
    assert refused.exit_code == 2 and "holds the results of a run of 'old'; use --overwrite" in refused.output
    assert verify_result(out)["scenario"] == "old"


def test_a_full_disk_at_the_sweeps_last_step_fails_cleanly_and_leaves_no_temporary(tmp_path, monkeypatch):
    """Writing results.parquet on a full disk gave a traceback and left its temporary beside it for good (found by
    an interrupted-run hunt on a small tmpfs, 2026-12-05). Now a SweepError, no temporary, and a rerun finishes."""
    import glucosim.sweep.store as store_module
    from glucosim.errors import SweepError
    from glucosim.sweep import run_sweep
    from tests._sweep_helpers import write_sweep

    sweep = write_sweep(tmp_path / "input", base_text=SCENARIO.format(name="b", days=1))
    real_replace = os.replace

    def full(source, target):
        if Path(target).name == "results.parquet":
            raise OSError(errno.ENOSPC, "No space left on device")
        return real_replace(source, target)

    monkeypatch.setattr(store_module.os, "replace", full)
    with pytest.raises(SweepError, match=r"results.parquet: could not write the consolidated results: No space"):
        run_sweep(sweep, tmp_path / "sweep", workers=1, progress=False)
    assert not [p.name for p in (tmp_path / "sweep").iterdir() if "partial" in p.name or p.name.startswith(".")]
    monkeypatch.setattr(store_module.os, "replace", real_replace)
    run_sweep(sweep, tmp_path / "sweep", workers=1, progress=False)
    assert (tmp_path / "sweep" / "results.parquet").is_file()


def test_another_machines_partial_run_folder_is_left_alone(tmp_path):
    """A partial folder's PID tells a live writer on this machine only: on a shared file system another node's live
    save to the same --out was removed by this node's cleanup (an interrupted-run hunt, 2026-12-05). Partial
    folders now carry their host, as every temporary does (temporary_beside); another host's is left alone, this
    host's dead one is removed."""
    import socket

    host = socket.gethostname()
    foreign = tmp_path / ".out.partial-another-node-1-0123abcd"
    dead_here = tmp_path / f".out.partial-{host}-999999999-4567cdef"
    for folder in (foreign, dead_here):
        folder.mkdir()
    assert _run(_scenario(tmp_path), "--out", tmp_path / "out", "--no-figures").exit_code == 0
    assert foreign.is_dir() and not dead_here.exists()
