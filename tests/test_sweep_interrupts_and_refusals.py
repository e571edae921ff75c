"""Findings of a bad-input hunt (2026-12-03), each reproduced before its fix.

A Ctrl-C during an in-process sweep stops it; it is never stored as a run's (or a patient's) failure.

numba's dispatcher turns a Ctrl-C that arrives inside the compiled integrator into a SystemError whose context is
the KeyboardInterrupt; the sweep's worker and its screening caught it as "one broken run" and kept that row for
good (exit 0, a permanent error row, the same seed giving other results). Bad worker and chunk counts, and a
correlation matrix singular but for rounding, are refused before anything is written.
"""

from __future__ import annotations

import numpy as np
import pandas.testing as pdt
import pytest

from glucosim.errors import SweepError, raise_if_interrupted
from glucosim.sweep import load_results, run_sweep
from tests._sweep_helpers import comparable, write_sweep

BASE = 'name = "b"\nduration_days = 10\n[[routine.meals]]\ntime_h = 8\ncarbs_g = 70\n'
SMALL = """
name = "small"
base_scenario = "base.toml"
seed = 3
[design]
kind = "grid"
[[variables]]
parameter = "insulin_sensitivity_whole_body"
unit = "1"
values = [0.6, 1.0]
"""


def _numba_style_interrupt() -> SystemError:
    """The exception numba raises when Ctrl-C lands in compiled code: a SystemError in a KeyboardInterrupt's context."""
    try:
        try:
            raise KeyboardInterrupt
        except KeyboardInterrupt:
            raise SystemError("CPUDispatcher(<function integrate>) returned a result with an exception set")  # noqa: B904 - as numba: the context, not the cause
    except SystemError as exc:
        return exc


def test_an_interrupt_is_told_from_a_failure():
    with pytest.raises(KeyboardInterrupt):
        raise_if_interrupted(_numba_style_interrupt())
    with pytest.raises(KeyboardInterrupt):
        raise_if_interrupted(KeyboardInterrupt())
    raise_if_interrupted(ValueError("a broken run"))  # returns: an ordinary failure is the caller's to record
    cyclic = RuntimeError("cycle")
    cyclic.__context__ = ValueError("inner")
    cyclic.__context__.__context__ = cyclic
    raise_if_interrupted(cyclic)  # a cyclic chain ends


def test_an_interrupted_in_process_sweep_stops_and_resumes_to_the_same_results(tmp_path, monkeypatch):
    import glucosim.simulation.run as run_module

    path = write_sweep(tmp_path / "files", SMALL, BASE)
    expected = comparable(load_results(run_sweep(path, tmp_path / "reference", workers=1, progress=False).out_dir))
    real = run_module.simulate

    def interrupted(*args, **kwargs):
        raise _numba_style_interrupt()

    monkeypatch.setattr(run_module, "simulate", interrupted)
    out = tmp_path / "out"
    with pytest.raises(KeyboardInterrupt):
        run_sweep(path, out, workers=1, chunk_runs=1, progress=False)
    monkeypatch.setattr(run_module, "simulate", real)
    outcome = run_sweep(path, out, workers=1, chunk_runs=1, progress=False)
    assert outcome.complete and outcome.runs_this_call == 2  # nothing was stored as failed: both run again
    pdt.assert_frame_equal(comparable(load_results(out)), expected)


@pytest.mark.parametrize(
    "arguments", [{"chunk_runs": -4}, {"chunk_runs": 0}, {"workers": 0}, {"workers": -2}, {"task_count": 0}]
)
def test_a_bad_worker_or_chunk_count_is_refused_before_the_folder_is_made(tmp_path, arguments):
    # chunk_runs=-4 once went into a new folder's manifest, and every later call failed on it
    path = write_sweep(tmp_path / "files", SMALL, BASE)
    name = next(iter(arguments))
    with pytest.raises(SweepError, match=f"{name} must be a whole number of at least 1"):
        run_sweep(path, tmp_path / "out", progress=False, **arguments)
    assert not (tmp_path / "out").exists()


def test_the_population_calibration_refuses_zero_workers(capsys):
    from glucosim.calibration.population import main

    with pytest.raises(SystemExit) as stop:
        main(["--workers", "0", "--no-progress"])
    assert stop.value.code == 2
    assert "--workers: 0 is not at least 1" in capsys.readouterr().err


SINGULAR = """
name = "singular"
base_scenario = "base.toml"
seed = 3
[design]
kind = "cohort"
samples = 4
correlation = [[1.0, 0.3, 0.3], [0.3, 1.0, 1.0], [0.3, 1.0, 1.0]]
[[variables]]
parameter = "insulin_sensitivity_whole_body"
unit = "1"
distribution = "lognormal"
median = 0.8
gsd = 1.3
[[variables]]
parameter = "beta_function_max"
unit = "1"
distribution = "lognormal"
median = 2.0
gsd = 1.3
[[variables]]
parameter = "beta_mass_max"
unit = "1"
distribution = "lognormal"
median = 1.5
gsd = 1.2
"""


def test_a_correlation_matrix_singular_but_for_rounding_is_refused_with_the_field(tmp_path):
    # its smallest eigenvalue is ~4e-17 > 0: it passed "positive definite" and failed later in the Cholesky factor
    from glucosim.sweep import load_sweep

    path = write_sweep(tmp_path, SINGULAR, BASE)
    with pytest.raises(SweepError, match=r"sweep.toml: design.correlation: is singular \(smallest eigenvalue"):
        load_sweep(path)


def test_a_second_sweep_racing_into_the_same_folder_leaves_the_first_ones_copies(tmp_path):
    # two job arrays given one --out: the second looked before the first had linked its manifest, wrote its own
    # copies and design over the first's, and only then failed on the manifest
    import hashlib

    from glucosim.sweep import load_sweep
    from glucosim.sweep.runner import design_table
    from glucosim.sweep.store import SweepStore

    first = load_sweep(write_sweep(tmp_path / "a", SMALL, BASE))
    second = load_sweep(write_sweep(tmp_path / "b", SMALL.replace("seed = 3", "seed = 4"), BASE))
    out = tmp_path / "out"
    SweepStore(out).initialise(first, design_table(first), 8)
    before = {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in out.iterdir() if p.is_file()}

    late = SweepStore(out)
    real_manifest, calls = late.manifest, []

    def not_there_yet():  # the second process's first look, before the first one's manifest appeared
        calls.append(1)
        return None if len(calls) == 1 else real_manifest()

    late.manifest = not_there_yet
    with pytest.raises(SweepError, match="holds results of a different sweep"):
        late.initialise(second, design_table(second), 8)
    after = {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in out.iterdir() if p.is_file()}
    assert after == before


def test_a_folder_stopped_between_its_manifest_and_its_copies_gets_them_on_resume(tmp_path):
    from glucosim.sweep import load_sweep
    from glucosim.sweep.runner import design_table
    from glucosim.sweep.store import DESIGN_FILE, SweepStore

    loaded = load_sweep(write_sweep(tmp_path / "a", SMALL, BASE))
    out = tmp_path / "out"
    SweepStore(out).initialise(loaded, design_table(loaded), 8)
    expected = (out / "sweep.toml").read_bytes()
    (out / "sweep.toml").unlink()
    (out / DESIGN_FILE).write_bytes(b"not parquet")  # truncated or damaged: it used to stay so, unnoticed
    said = []
    SweepStore(out, announce=said.append).initialise(loaded, design_table(loaded), 8)
    assert (out / "sweep.toml").read_bytes() == expected
    assert SweepStore(out).design().equals(design_table(loaded))
    assert any("unreadable; written again" in line for line in said)


@pytest.fixture(scope="module")
def screened(tmp_path_factory):
    """A small copy of the shipped screened sweep (40 patients: two screening chunks), run once."""
    from tests.test_sweep_screening import _small_shipped

    root = tmp_path_factory.mktemp("screened")
    path = _small_shipped(root / "file", screened=True, samples=40, years=1)
    run_sweep(path, root / "reference", workers=1, progress=False, announce=lambda line: None)
    return path, root / "reference"


def _copy(reference, out):
    import shutil

    shutil.copytree(reference, out)
    return out


@pytest.mark.slow  # the screened fixture runs a 40-patient screened sweep once (~14 s)
def test_an_edited_screening_chunk_is_screened_again(screened, tmp_path):
    # a chunk that still reads, with its samples, but whose values changed (a patient flipped to enrolled) was taken
    # as it was: the rebuilt table disagreed with the simulated runs
    import pandas as pd

    from glucosim.sweep.store import SCREENING_DIR, SCREENING_FILE, SweepStore

    path, reference = screened
    out = _copy(reference, tmp_path / "edited")
    chunk = out / SCREENING_DIR / "chunk-000000.parquet"
    frame = pd.read_parquet(chunk)
    frame.loc[0, "enrolled"] = not bool(frame.loc[0, "enrolled"])
    frame.to_parquet(chunk)
    (out / SCREENING_FILE).unlink()
    said = []
    run_sweep(path, out, workers=1, progress=False, announce=said.append)
    assert any("screening chunk 0" in line and "changed since it was written" in line for line in said)
    pdt.assert_frame_equal(SweepStore(out).load_screening(), SweepStore(reference).load_screening(), check_dtype=False)


@pytest.mark.slow  # the screened fixture runs a 40-patient screened sweep once (~14 s)
def test_a_truncated_screening_table_is_rebuilt_from_its_chunks(screened, tmp_path):
    # it ended the rerun, and the DPP table, with pyarrow's "Parquet magic bytes not found"
    from glucosim.sweep.store import SCREENING_FILE, SweepStore

    path, reference = screened
    out = _copy(reference, tmp_path / "truncated")
    with open(out / SCREENING_FILE, "r+b") as handle:
        handle.truncate(100)
    assert SweepStore(out, announce=lambda line: None).load_screening() is not None  # read from the chunks
    run_sweep(path, out, workers=1, progress=False, announce=lambda line: None)
    pdt.assert_frame_equal(SweepStore(out).load_screening(), SweepStore(reference).load_screening(), check_dtype=False)


def test_a_base_scenario_cut_short_by_the_sweeps_duration_says_so(tmp_path):
    # "a change starts on day 3287, after the end of the run" named the base file only, not the sweep's
    # duration_years that had cut it short
    from glucosim.sweep import load_sweep

    base = BASE.replace("duration_days = 10", "duration_days = 400") + "[[changes]]\nfrom_day = 300\nsleep_h = 6\n"
    path = write_sweep(tmp_path, SMALL.replace("seed = 3\n", "seed = 3\nduration_years = 0.5\n"), base)
    with pytest.raises(SweepError, match=r"after the end of the run .*the sweep's duration_years = 0.5 replaces"):
        load_sweep(path)


def test_the_weight_goal_share_leaves_out_weights_not_read():
    # with the follow-up's day not sampled, every weight was NaN and the table said "0 % at the goal"
    import math

    import pandas as pd

    from glucosim.analysis.sweep.dpp import weight_goal_table

    results = pd.DataFrame(
        {
            "arm": ["life"] * 3,
            "status": ["ok"] * 3,
            "sample": [0, 1, 2],
            "body_weight": [100.0, 100.0, 100.0],
            "weight_change_week24_kg": [-8.0, -2.0, float("nan")],
            "weight_change_end_kg": [float("nan")] * 3,
        }
    )
    row = weight_goal_table(results).iloc[0]
    assert row["at_goal_week24_percent"] == pytest.approx(50.0)  # 1 of the 2 read, not 1 of 3
    assert math.isnan(row["at_goal_end_percent"])


def test_a_one_year_sweep_is_tabulated_at_one_year(monkeypatch, capsys):
    # its runs last 365 days, 0.9993 years, and "--years 1" was refused as longer than the runs
    from glucosim.analysis.sweep import dpp
    from glucosim.sweep import store

    manifest = {"run_years": 365 / 365.25, "n_years": 1, "arms": ["control"], "n_chunks": 1}
    monkeypatch.setattr(store.SweepStore, "manifest", lambda self: manifest)
    monkeypatch.setattr(store.SweepStore, "completed_chunks", lambda self: {0})
    monkeypatch.setattr(dpp, "load_trial_results", lambda out_dir: "results")
    monkeypatch.setattr(dpp, "trial_table", lambda results, arm, years: f"table at {years:g} years")
    monkeypatch.setattr(dpp, "markdown", lambda table: table + "\n")
    assert dpp.main(["somewhere", "--years", "1"]) == 0
    assert "table at 1 years" in capsys.readouterr().out
    assert dpp.main(["somewhere", "--years", "1.01"]) == 2
    assert "the runs last 0.9993 years (365 days)" in capsys.readouterr().err


def test_numpy_counts_are_taken_as_whole_numbers(tmp_path):
    # np.int64(8) passed the check and then failed in the manifest's JSON, after the folder was made
    import numpy as np

    path = write_sweep(tmp_path / "files", SMALL, BASE)
    outcome = run_sweep(path, tmp_path / "out", workers=np.int64(1), chunk_runs=np.int64(1), progress=False)
    assert outcome.complete
    with pytest.raises(SweepError, match="task_index must be a whole number"):
        run_sweep(path, tmp_path / "other", task_index=True, task_count=2, progress=False)


@pytest.mark.slow  # the screened fixture runs a 40-patient screened sweep once (~14 s)
def test_a_screening_chunk_written_before_records_is_adopted_without_screening_again(screened, tmp_path, monkeypatch):
    # every folder screened before the records existed: its whole chunks are kept and recorded, not screened again
    import glucosim.sweep.screening as screening
    from glucosim.sweep.store import SCREENING_DIR, SCREENING_FILE, SweepStore

    path, reference = screened
    out = _copy(reference, tmp_path / "older")
    for record in (out / SCREENING_DIR).glob("chunk-*.json"):
        record.unlink()
    (out / SCREENING_FILE).unlink()
    calls = []
    real = screening.screen_patient

    def counted(*args, **kwargs):
        calls.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(screening, "screen_patient", counted)
    run_sweep(path, out, workers=1, progress=False, announce=lambda line: None)
    assert not calls
    assert sorted(p.name for p in (out / SCREENING_DIR).glob("chunk-*.json")) == [
        "chunk-000000.json",
        "chunk-000001.json",
    ]
    pdt.assert_frame_equal(SweepStore(out).load_screening(), SweepStore(reference).load_screening(), check_dtype=False)


def test_the_duration_note_is_only_for_what_the_duration_caused(tmp_path):
    from glucosim.sweep import load_sweep

    path = write_sweep(
        tmp_path,
        SMALL.replace("seed = 3\n", "seed = 3\nduration_years = 0.5\n"),
        BASE + "[subject]\npreset = 'nobody'\n",
    )
    with pytest.raises(SweepError) as info:
        load_sweep(path)
    assert "nobody" in str(info.value) and "duration_years" not in str(info.value)


@pytest.mark.parametrize("ensemble", [False, True])
def test_a_ctrl_c_inside_the_compiled_integrator_stops_as_a_keyboard_interrupt(ensemble):
    # glucosim run, validation and the course grid ended in numba's SystemError traceback on a Ctrl-C that landed
    # in compiled code (bad-input hunt, 2026-12-05): the solver's entry points say it as the interrupt it is
    from glucosim.solver.segments import Schedule, Tolerances, integrate_schedule

    def integrator(*args):
        raise _numba_style_interrupt()

    schedule = Schedule(np.array([0.0]), np.array([1.0]), np.zeros((1, 1)), np.zeros((1, 2)))
    tolerances = Tolerances(rtol=1e-6, atol=np.full(2, 1e-9), n_controlled=2)
    with pytest.raises(KeyboardInterrupt):
        if ensemble:
            from glucosim.solver import integrate_ensemble

            integrate_ensemble(schedule, np.zeros((1, 2)), np.zeros((1, 1)), np.array([1.0]), tolerances, integrator)
        else:
            integrate_schedule(integrator, schedule, np.zeros(2), np.zeros(1), np.array([1.0]), tolerances, ["a", "b"])
