"""Screening before simulating (a sweep file's [screening]): the screened sweep enrols the patients the clinic
enrols after the same sweep unscreened, simulates only them, and gives the same DPP table."""

from __future__ import annotations

import math
import os
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas.testing as pdt
import pytest

from glucosim.analysis.sweep.clinic import ClinicSettings, clinic_course
from glucosim.analysis.sweep.dpp import load_trial_results, markdown, trial_table
from glucosim.errors import SweepError
from glucosim.sweep import load_results, load_sweep, run_sweep
from glucosim.sweep.backends import LocalPool, execute
from glucosim.sweep.screening import SCREENING_COLUMNS, STATUS_SCREENED_OUT, screening_visit
from glucosim.sweep.store import SCREENING_DIR, SCREENING_FILE, SweepStore
from tests._sweep_helpers import comparable, write_sweep

SHIPPED = Path(__file__).resolve().parent.parent / "scenarios" / "sweeps" / "prediabetes_lifestyle.toml"
BOTH_SAMPLES = 30
BOTH_YEARS = 3
"""The two sweeps compared (the ``both`` fixture): the shipped 3 years, so that the scenario check refuses some of
the first 30 patients (3 with the cohort of 2026-12-05: samples 13, 24 and 28, whose drift takes their muscle
sensitivity out of the model's range within the 3 years; none of the first 75 within 1 year), and the DPP screening
enrols ~8."""


def _small_shipped(directory: Path, screened: bool, samples: int, years: int) -> Path:
    """The shipped prevention sweep with ``samples`` patients and runs of ``years``, with or without its screening."""
    text = SHIPPED.read_text()
    base = (SHIPPED.parent / "../03_insulin_resistance_low_reserve.toml").resolve()
    text = text.replace('base_scenario = "../03_insulin_resistance_low_reserve.toml"', f'base_scenario = "{base}"')
    text = re.sub(r"(?m)^samples = \d+.*$", f"samples = {samples}", text)
    text = re.sub(r"(?m)^duration_years = .*$", f"duration_years = {years}", text)
    text = re.sub(r"(?ms)^\[screening\].*?(?=^\[)", "", text)  # as it ships or not, then as asked
    if screened:
        text += '\n[screening]\nrule = "dpp"\n'
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / "sweep.toml"
    path.write_text(text)
    return path


def _without_source(table):
    """``table`` with each error message's sweep file path left out: a refused patient's message names the file
    (the same patient refused by two copies of the sweep in different folders)."""
    out = table.copy()
    out["error"] = out["error"].str.replace(r"^(\w+): \S+ \(sample", r"\1: (sample", regex=True)
    return out


def _table(out_dir: Path, years: int):
    results = load_trial_results(out_dir)
    return results, trial_table(results, "control", years)


def _enrolled(results) -> set[int]:
    control = results[results["arm"] == "control"]
    return set(map(int, control.loc[control["clinic_enrolled"].astype(bool), "sample"]))


@pytest.fixture(scope="module")
def both(tmp_path_factory):
    """The small shipped sweep run unscreened and screened (serially), each with its DPP table."""
    root = tmp_path_factory.mktemp("screening")
    found = {}
    for name, screened in (("plain", False), ("screened", True)):
        path = _small_shipped(root / f"{name}_file", screened, BOTH_SAMPLES, BOTH_YEARS)
        outcome = run_sweep(path, root / name, workers=1, progress=False, announce=lambda line: None)
        found[name] = (root / name, outcome, *_table(root / name, BOTH_YEARS))
    return found


@pytest.mark.slow  # two sweeps of 30 three-year patients
def test_a_screened_sweep_enrols_and_tabulates_as_the_clinic_after_an_unscreened_one(both):
    plain_dir, plain_outcome, plain_results, plain_table = both["plain"]
    screened_dir, outcome, results, table = both["screened"]
    enrolled = _enrolled(plain_results)
    assert 0 < len(enrolled) < BOTH_SAMPLES  # the screening admits some and refuses others
    assert _enrolled(results) == enrolled
    screening = SweepStore(screened_dir).load_screening()
    assert set(screening.loc[screening["enrolled"], "sample"]) == enrolled
    assert markdown(table) == markdown(plain_table)
    pdt.assert_frame_equal(table, plain_table)
    # only the enrolled were simulated, and their runs are the unscreened sweep's
    simulated = results["status"] != STATUS_SCREENED_OUT
    assert set(results.loc[simulated, "sample"]) == enrolled
    assert outcome.n_screened_out == 2 * (BOTH_SAMPLES - len(enrolled)) and outcome.n_failed == 0
    assert plain_outcome.n_screened_out == 0
    plain, screened = load_results(plain_dir), load_results(screened_dir)
    pdt.assert_frame_equal(
        comparable(screened[screened["status"] != STATUS_SCREENED_OUT]).reset_index(drop=True),
        comparable(plain[plain["sample"].isin(enrolled)]).reset_index(drop=True),
        check_dtype=False,  # a screened sweep's work counters are floats: its screened-out rows have none
    )
    # a sweep without [screening] runs every run, as before, and keeps no screening; a patient the scenario check
    # refuses (the cohort draws some whose muscle sensitivity leaves the model's range within the run) is an error
    # run there and a refused, not enrolled, patient of the screening: the same patients
    assert not (plain_dir / SCREENING_DIR).exists() and not (plain_dir / SCREENING_FILE).exists()
    refused = set(screening.loc[screening["error"].notna(), "sample"])
    assert refused  # the first 30 patients include some the check refuses (BOTH_SAMPLES)
    not_ok = plain[plain["status"] != "ok"]
    assert set(not_ok["sample"]) == refused and len(plain) == 2 * BOTH_SAMPLES
    assert not_ok["error"].str.contains("cannot represent").all()
    assert screening.loc[screening["error"].notna(), "error"].str.contains("cannot represent").all()
    assert SweepStore(plain_dir).load_screening() is None


@pytest.mark.slow  # needs the two sweeps of the test above
def test_the_screening_table_holds_the_clinics_screening_values(both):
    _, _, results, _ = both["screened"]
    screening = SweepStore(both["screened"][0]).load_screening().set_index("sample")
    assert list(screening.columns) == list(SCREENING_COLUMNS[1:]) and len(screening) == BOTH_SAMPLES
    assert not screening.loc[screening["error"].notna(), "enrolled"].any()  # a refused patient is not enrolled
    control = results[(results["arm"] == "control") & (results["status"] != STATUS_SCREENED_OUT)]
    for sample, row in control.set_index("sample").iterrows():
        for column in ("screen_fasting_glucose_mg_dl", "screen_hba1c_percent", "screen_two_hour_glucose_mg_dl"):
            assert row[f"clinic_{column}"] == screening.at[sample, column]
    # the true day-0 values are the unscreened runs' own day 0
    plain_daily = SweepStore(both["plain"][0]).load_daily()
    plain = load_results(both["plain"][0])
    first_days = plain_daily[plain_daily["day"] == 0].set_index("run_id")
    ran = (plain["arm"] == "control") & (plain["status"] == "ok")  # a refused patient has no day 0 (nor a screening)
    assert (
        screening.loc[sorted(set(plain.loc[~ran & (plain["arm"] == "control"), "sample"])), "fasting_glucose_mg_dl"]
        .isna()
        .all()
    )
    for run_id, sample in plain.loc[ran, ["run_id", "sample"]].itertuples(index=False):
        assert first_days.at[run_id, "fasting_glucose_mg_dl"] == screening.at[sample, "fasting_glucose_mg_dl"]
        assert first_days.at[run_id, "hba1c_percent"] == screening.at[sample, "hba1c_percent"]


@pytest.mark.slow  # two more screened sweeps (job-array halves)
def test_a_screened_sweep_resumes_in_parts_to_the_same_results(both, tmp_path):
    path = _small_shipped(tmp_path / "file", True, BOTH_SAMPLES, BOTH_YEARS)  # as the reference, both["screened"]
    out = tmp_path / "parts"
    first = run_sweep(path, out, workers=1, progress=False, task_index=0, task_count=2, announce=lambda line: None)
    assert not first.complete and not (out / SCREENING_FILE).exists()
    assert any((out / SCREENING_DIR).iterdir())  # the first half's patients are screened and kept
    # a screening chunk damaged between the calls is set aside and screened again
    damaged = sorted((out / SCREENING_DIR).glob("chunk-*.parquet"))[0]
    damaged.write_bytes(b"not parquet")
    lines = []
    second = run_sweep(path, out, workers=1, progress=False, task_index=1, task_count=2, announce=lines.append)
    assert second.complete
    assert any(f"screening chunk 0 ({SCREENING_DIR}/{damaged.name}): unreadable" in line for line in lines)
    assert (out / SCREENING_DIR / (damaged.name + ".corrupt")).is_file()
    reference = both["screened"][0]
    pdt.assert_frame_equal(
        _without_source(SweepStore(out).load_screening()),
        _without_source(SweepStore(reference).load_screening()),
        check_dtype=False,
    )
    pdt.assert_frame_equal(
        _without_source(comparable(load_results(out))), _without_source(comparable(load_results(reference)))
    )


@pytest.mark.slow  # one more screened sweep, and its healing rerun
def test_a_screening_chunk_lost_after_its_runs_finished_is_screened_again(both, tmp_path):
    # every run done, screening.parquet not yet written (or removed), one screening chunk gone: the rerun has no runs
    # to do, so it must screen that chunk again itself; the table it consolidates covers every patient (a table short
    # of patients would drop enrolled, simulated patients from the DPP table)
    path = _small_shipped(tmp_path / "file", True, BOTH_SAMPLES, BOTH_YEARS)  # as the reference, both["screened"]
    out = tmp_path / "lost"
    assert run_sweep(path, out, workers=1, progress=False, announce=lambda line: None).complete
    (out / SCREENING_FILE).unlink()
    lost = sorted((out / SCREENING_DIR).glob("chunk-*.parquet"))[-1]
    lost.unlink()
    with pytest.raises(SweepError, match="do not hold every patient"):
        SweepStore(out).consolidate_screening()
    again = run_sweep(path, out, workers=1, progress=False, announce=lambda line: None)
    assert again.complete and again.runs_this_call == 0 and lost.is_file()
    reference = both["screened"][0]
    pdt.assert_frame_equal(
        _without_source(SweepStore(out).load_screening()),
        _without_source(SweepStore(reference).load_screening()),
        check_dtype=False,
    )
    assert len(SweepStore(out).load_screening()) == BOTH_SAMPLES


def test_the_clinics_course_screens_as_the_screening_visit_whatever_visits_follow(tmp_path):
    """The clinic's course calls ``screening_visit`` itself; what this checks is that the screening's draws do not
    depend on how many follow-up visits come after it (the sweep's screening sees day 0 only)."""
    rng = np.random.default_rng(3)
    for sample in range(200):
        fasting = rng.uniform(90.0, 130.0, 400)
        hba1c = rng.uniform(5.2, 6.6, 400)
        two_hour = float(rng.uniform(120.0, 210.0)) if sample % 3 else math.nan
        settings = ClinicSettings() if sample % 2 else ClinicSettings(fasting_glucose_cv=0.0, hba1c_cv=0.0)
        course = clinic_course(sample, fasting, hba1c, settings, two_hour)
        visit = screening_visit(sample, float(fasting[0]), float(hba1c[0]), two_hour, settings)
        assert {key: course[key] for key in visit} == pytest.approx(visit, nan_ok=True, rel=0, abs=0)


SCREENED_GRID = """
name = "screened grid"
base_scenario = "base.toml"
seed = 3

[design]
kind = "grid"

[[variables]]
parameter = "insulin_sensitivity_whole_body"
unit = "1"
values = [0.25, 0.6]

[screening]
rule = "dpp"
"""


@pytest.mark.parametrize(
    ("screening", "expected"),
    [
        ('rule = "dpp_ogtt"', "screening.rule: Input should be 'dpp' (got 'dpp_ogtt')"),
        ('rules = "dpp"', "screening.rules: unknown field; allowed fields here: rule"),
        ("", "screening.rule: required field is missing"),
    ],
)
def test_a_bad_screening_names_file_field_and_allowed_values(tmp_path, screening, expected):
    text = SHIPPED.read_text().replace("../03_insulin_resistance_low_reserve.toml", "base.toml")
    text = re.sub(r"(?ms)^\[screening\].*?(?=^\[)", "", text)  # the shipped one, replaced by the bad one
    path = write_sweep(tmp_path, text + f"\n[screening]\n{screening}\n")
    with pytest.raises(SweepError) as info:
        load_sweep(path)
    assert str(path) in str(info.value) and expected in str(info.value)


def test_screening_needs_a_cohort(tmp_path):
    path = write_sweep(tmp_path, SCREENED_GRID)
    with pytest.raises(SweepError, match=r"sweep\.toml: screening: a screening enrols patients of a cohort: it needs "):
        load_sweep(path)


@dataclass(frozen=True)
class _Task:
    chunk_index: int
    marker: str


def _pid_dying_once(task: _Task):
    """A worker's task that kills its worker the first time it runs (``marker`` not there yet)."""
    marker = Path(task.marker)
    if not marker.exists():
        marker.write_text("died once")
        os._exit(1)
    return task.chunk_index, os.getpid()


def _pid(task: _Task):
    return task.chunk_index, os.getpid()


@pytest.mark.slow  # spawns worker processes three times (~10 s)
def test_one_pool_serves_both_stages_and_is_restarted_when_a_worker_dies(tmp_path):
    """The screening and the runs share the local workers (each starts once); a dead worker breaks the pool,
    which is restarted and kept for the next stage."""
    with LocalPool(2) as pool:
        tasks = [_Task(index, str(tmp_path / "marker")) for index in range(4)]
        first = dict(execute(tasks, workers=2, function=_pid_dying_once, pool=pool))
        assert sorted(first) == [0, 1, 2, 3] and (tmp_path / "marker").is_file()
        restarted = pool.executor()
        second = dict(execute([_Task(index, "") for index in range(6)], workers=2, function=_pid, pool=pool))
        assert sorted(second) == list(range(6))
        assert pool.executor() is restarted  # kept for the second stage, not started again
        started = {process.pid for process in restarted._processes.values()}
        assert set(second.values()) <= started  # the second stage ran on the restarted pool's workers


HEALTHY_SCREENED_COHORT = """
name = "healthy cohort, screened"
base_scenario = "base.toml"
seed = 5
duration_years = 0.1

[design]
kind = "cohort"
samples = 3

[[variables]]
parameter = "insulin_sensitivity_whole_body"
unit = "1"
distribution = "lognormal"
median = 1.0
gsd = 1.02

[[arms]]
name = "control"

[[arms]]
name = "walking"
[[arms.changes]]
from_day = 0
exercise = [{ start_h = 18.0, duration_min = 30, intensity_pct_vo2max = 50 }]

[screening]
rule = "dpp"
"""


def test_a_screening_that_enrols_no_one_completes_and_says_so(tmp_path):
    from glucosim.analysis.sweep import analyze_sweep

    base = 'name = "healthy"\nduration_days = 30\n[subject]\npreset = "healthy"\n'
    path = write_sweep(tmp_path / "input", HEALTHY_SCREENED_COHORT, base)
    lines = []
    outcome = run_sweep(path, tmp_path / "out", workers=1, progress=False, announce=lines.append)
    assert outcome.complete and outcome.n_screened_out == 6 and outcome.n_failed == 0
    assert any("0 of 3 patients enrolled" in line for line in lines)
    screening = SweepStore(tmp_path / "out").load_screening()
    assert not screening["enrolled"].any() and (screening["fasting_glucose_mg_dl"] < 95.0).all()
    with pytest.raises(SweepError, match="the screening enrolled no patient"):
        analyze_sweep(tmp_path / "out", figures=False)


@pytest.mark.parametrize("n_arms", [1, 2, 3])
@pytest.mark.parametrize("chunk_runs", [1, 3, 8, 50])
@pytest.mark.parametrize("task_count", [1, 2, 5])
def test_a_job_arrays_tasks_share_no_screening_chunk_and_run_only_their_own_patients(n_arms, chunk_runs, task_count):
    from glucosim.sweep.runner import _chunk_rows, _my_chunks, _my_screening_chunks, array_block_runs
    from glucosim.sweep.store import SCREENING_CHUNK_SAMPLES

    n_samples = 137
    n_runs = n_samples * n_arms
    chunks = list(range(-(-n_runs // chunk_runs)))
    block_chunks = array_block_runs(n_arms, chunk_runs, screened=True) // chunk_runs
    runs_of, screening_of = {}, {}
    for task in range(task_count):
        runs_of[task] = _my_chunks(chunks, task, task_count, block_chunks)
        screening_of[task] = _my_screening_chunks(n_samples, n_arms, chunk_runs, task, task_count)
    # every run chunk and every screening chunk is one task's, and only one's
    assert sorted(sum(runs_of.values(), [])) == chunks
    every_screening_chunk = sorted(index for owned in screening_of.values() for index in owned)
    assert every_screening_chunk == list(range(-(-n_samples // SCREENING_CHUNK_SAMPLES)))
    # a task's runs need the screening of its own screening chunks only (the design: sample = run // arms)
    for task in range(task_count):
        needed = {
            (run // n_arms) // SCREENING_CHUNK_SAMPLES
            for i in runs_of[task]
            for run in _chunk_rows(chunk_runs, n_runs, i)
        }
        assert needed <= screening_of[task]


def test_an_unscreened_job_array_keeps_taking_chunks_in_turn():
    from glucosim.sweep.runner import _my_chunks, array_block_runs

    assert array_block_runs(2, 8, screened=False) == 8
    assert _my_chunks(list(range(10)), 1, 3) == [1, 4, 7]


@pytest.mark.slow  # screens 30 patients and simulates the enrolled for half a year (~10 s)
def test_job_array_tasks_running_at_once_screen_each_patient_once(tmp_path, monkeypatch):
    """Each task in its own copy of the folder, so none sees another's screening: as tasks that start together.
    Before: the first task screened every patient and the others their own runs' screening chunks again."""
    import glucosim.sweep.screening as screening_module

    samples = 30  # two screening chunks of 20 patients, one job-array block each
    path = _small_shipped(tmp_path / "file", screened=True, samples=samples, years=1)
    # half-year runs hold no yearly visit, so they run without the yearly OGTT (the sweep refuses it otherwise)
    text = re.sub(r"(?m)^duration_years = .*$", "duration_years = 0.5", path.read_text())
    path.write_text(re.sub(r"(?m)^yearly_ogtt = .*$", "", text))
    real = screening_module.screen_patient
    screened_by: dict[int, list[int]] = {}
    task = {"index": None}

    def counted(loaded, sample, values, *args, **kwargs):
        screened_by.setdefault(task["index"], []).append(int(sample))
        return real(loaded, sample, values, *args, **kwargs)

    monkeypatch.setattr(screening_module, "screen_patient", counted)
    for index in range(2):
        task["index"] = index
        outcome = run_sweep(
            path,
            tmp_path / f"task{index}",
            workers=1,
            chunk_runs=8,
            progress=False,
            task_index=index,
            task_count=2,
            announce=lambda line: None,
        )
        assert not outcome.complete
    everyone = sorted(sample for samples in screened_by.values() for sample in samples)
    assert everyone == list(range(samples))  # each patient screened once, by one task
    assert sorted(screened_by[0]) == list(range(20)) and sorted(screened_by[1]) == list(range(20, samples))
