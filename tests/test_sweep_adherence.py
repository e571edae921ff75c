"""Per-patient adherence of a sweep arm (``[[arms.adherence]]``): reproducible draws, the shipped DPP arm's
published goal attainment, clear errors for bad entries, and zero adherence as the control patient."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas.testing as pdt
import pytest

from glucosim.errors import SweepError
from glucosim.scenario.load import parse_scenario
from glucosim.simulation.run import simulate
from glucosim.sweep.load import load_sweep
from glucosim.sweep.runner import design_table
from glucosim.sweep.scenario_edit import run_scenario_data
from tests._sweep_helpers import write_sweep

SHIPPED = Path(__file__).resolve().parents[1] / "scenarios" / "sweeps" / "prediabetes_lifestyle.toml"

WING_2004_ACTIVITY_GOAL_WEEK_24 = 0.74
"""Share of the DPP lifestyle participants at the 150 min/week goal at the end of the core curriculum (Wing 2004
Obes Res 12:1426, abstract): the shipped arm's activity draws are set to it."""

ADHERENCE_SWEEP = """
name = "test adherence"
base_scenario = "base.toml"
seed = 5

[design]
kind = "cohort"
samples = 30

[[variables]]
parameter = "body_weight"
unit = "kg"
distribution = "normal"
mean = 90.0
sd = 15.0

[[arms]]
name = "control"

[[arms]]
name = "programme"

[[arms.changes]]
from_day = 0
energy_surplus_kcal_per_day = -200
exercise = [{ start_h = 18.0, duration_min = 30, intensity_pct_vo2max = 50, weekdays = [0, 2, 4] }]

[[arms.changes]]
from_day = 100
energy_surplus_kcal_per_day = 0

[[arms.adherence]]
name = "diet"
distribution = "normal"
mean = 0.8
sd = 0.3
bounds = [0.0, 1.5]
scales = ["changes[0].energy_surplus_kcal_per_day"]
adds = [{ field = "changes[1].energy_surplus_kcal_per_day", per_unit = -50.0 }]

[[arms.adherence]]
name = "activity"
distribution = "uniform"
range = [0.0, 1.0]
scales = ["changes[0].exercise"]
"""


def _loaded(tmp_path, text=ADHERENCE_SWEEP):
    return load_sweep(write_sweep(tmp_path, text))


# ------------------------------------------------------------------ the draws
def test_adherence_draws_are_reproducible_and_do_not_depend_on_the_cohort_size(tmp_path):
    first = design_table(_loaded(tmp_path / "a"))
    again = design_table(_loaded(tmp_path / "b"))
    bigger = design_table(_loaded(tmp_path / "c", ADHERENCE_SWEEP.replace("samples = 30", "samples = 90")))
    pdt.assert_frame_equal(first, again)
    pdt.assert_frame_equal(first, bigger.iloc[: len(first)])
    assert {"programme.diet", "programme.activity"} <= set(first.columns)
    assert first["programme.diet"].nunique() > 1  # drawn per patient, not one value for all


def test_adherence_leaves_the_cohort_and_the_other_draws_unchanged(tmp_path):
    """A patient's cohort variables and each adherence draw come from their own streams: removing an
    adherence entry changes neither the body weights nor the remaining entry's draws."""
    with_both = design_table(_loaded(tmp_path / "a"))
    text = ADHERENCE_SWEEP.split('[[arms.adherence]]\nname = "activity"')[0]
    diet_only = design_table(_loaded(tmp_path / "b", text))
    pdt.assert_series_equal(with_both["body_weight"], diet_only["body_weight"])
    pdt.assert_series_equal(with_both["programme.diet"], diet_only["programme.diet"])


def test_adherence_draws_follow_their_distribution_and_bounds(tmp_path):
    table = design_table(_loaded(tmp_path, ADHERENCE_SWEEP.replace("samples = 30", "samples = 3000")))
    patients = table[table["arm"] == "control"]
    diet = patients["programme.diet"].to_numpy()
    activity = patients["programme.activity"].to_numpy()
    assert diet.min() >= 0.0 and diet.max() <= 1.5
    assert np.median(diet) == pytest.approx(0.8, abs=0.03)
    assert np.mean(activity) == pytest.approx(0.5, abs=0.03)
    assert np.mean(activity < 0.25) == pytest.approx(0.25, abs=0.03)


CORRELATED = ADHERENCE_SWEEP.replace(
    'name = "programme"\n', 'name = "programme"\nadherence_correlation = [[1.0, 0.8], [0.8, 1.0]]   # diet, activity\n'
)


def _spearman(a, b) -> float:
    return float(np.corrcoef(np.argsort(np.argsort(a)), np.argsort(np.argsort(b)))[0, 1])


def test_correlated_adherence_keeps_each_draws_distribution_and_the_first_entrys_draws(tmp_path):
    """A Gaussian copula: the rank correlation of the two draws is the copula's (6/pi asin(rho/2) = 0.79 at
    rho = 0.8, a little less where the diet's bounds clip it), each draw keeps its distribution, and the arm's
    first entry keeps its draws (the Cholesky factor's first row is (1, 0))."""
    independent = design_table(_loaded(tmp_path / "a", ADHERENCE_SWEEP.replace("samples = 30", "samples = 3000")))
    correlated = design_table(_loaded(tmp_path / "b", CORRELATED.replace("samples = 30", "samples = 3000")))
    independent = independent[independent["arm"] == "control"]
    correlated = correlated[correlated["arm"] == "control"]
    assert abs(_spearman(independent["programme.diet"], independent["programme.activity"])) < 0.06
    assert _spearman(correlated["programme.diet"], correlated["programme.activity"]) == pytest.approx(
        6 / np.pi * np.arcsin(0.4), abs=0.04
    )
    pdt.assert_series_equal(independent["programme.diet"], correlated["programme.diet"])
    activity = correlated["programme.activity"].to_numpy()
    assert activity.min() >= 0.0 and activity.max() <= 1.0
    assert np.mean(activity) == pytest.approx(0.5, abs=0.03)  # still uniform on [0, 1]
    assert np.mean(activity < 0.25) == pytest.approx(0.25, abs=0.03)
    assert not np.allclose(independent["programme.activity"], correlated["programme.activity"])


def test_an_adherence_correlation_is_part_of_the_sweeps_identity(tmp_path):
    """Given, the correlation counts in the hashes that tie a results folder to its sweep (another correlation is
    another sweep); absent, it leaves them as they were before the field existed (tests/test_sweep.py pins them)."""
    from glucosim.sweep.store import size_free_sha256

    independent = _loaded(tmp_path / "a")
    correlated = _loaded(tmp_path / "b", CORRELATED)
    identity = _loaded(tmp_path / "c", CORRELATED.replace("[[1.0, 0.8], [0.8, 1.0]]", "[[1.0, 0.0], [0.0, 1.0]]"))
    assert len({size_free_sha256(independent), size_free_sha256(correlated), size_free_sha256(identity)}) == 3


def test_arms_with_and_without_a_correlation_keep_their_columns(tmp_path):
    """Two arms with adherence, the first correlated and the second not: each draw lands in its own column, and
    the second arm's draws are those it has without the first arm's correlation."""
    second_arm = """
[[arms]]
name = "walking"

[[arms.changes]]
from_day = 0
exercise = [{ start_h = 7.0, duration_min = 20, intensity_pct_vo2max = 40, weekdays = [1, 3] }]

[[arms.adherence]]
name = "activity"
distribution = "uniform"
range = [0.0, 1.0]
scales = ["changes[0].exercise"]
"""
    plain = design_table(_loaded(tmp_path / "a", ADHERENCE_SWEEP + second_arm))
    mixed = design_table(_loaded(tmp_path / "b", CORRELATED + second_arm))
    columns = ["programme.diet", "programme.activity", "walking.activity"]
    assert [c for c in mixed.columns if "." in c] == columns
    pdt.assert_series_equal(plain["walking.activity"], mixed["walking.activity"])
    pdt.assert_series_equal(plain["programme.diet"], mixed["programme.diet"])
    assert not np.allclose(plain["programme.activity"], mixed["programme.activity"])


@pytest.mark.parametrize(
    ("matrix", "expected"),
    [
        ("[[1.0, 0.8], [0.7, 1.0]]", "must be symmetric"),
        ("[[1.0, 0.8, 0.0], [0.8, 1.0, 0.0], [0.0, 0.0, 1.0]]", "must be 2 x 2 (one row of 2 per adherence entry"),
        ("[[1.0, 1.2], [1.2, 1.0]]", "must be positive definite"),
        ("[[2.0, 0.0], [0.0, 1.0]]", "must have ones on the diagonal"),
    ],
)
def test_a_bad_adherence_correlation_names_the_file_the_arm_and_the_rule(tmp_path, matrix, expected):
    path = write_sweep(tmp_path, CORRELATED.replace("[[1.0, 0.8], [0.8, 1.0]]", matrix))
    with pytest.raises(SweepError) as error:
        load_sweep(path)
    message = str(error.value)
    assert str(path) in message
    assert "arms[1].adherence_correlation (arm 'programme')" in message, message
    assert expected in message, message


def test_an_adherence_correlation_needs_two_draws(tmp_path):
    text = CORRELATED.split('[[arms.adherence]]\nname = "activity"')[0].replace("[[1.0, 0.8], [0.8, 1.0]]", "[[1.0]]")
    with pytest.raises(SweepError, match=re.escape("correlates two or more adherence draws; the arm has 1")):
        load_sweep(write_sweep(tmp_path, text))


def test_shipped_dpp_arm_draws_the_published_goal_attainment():
    """The shipped lifestyle arm: 74 % walk the full 150 min/week (Wing 2004), the diet share and the regain
    stay in their stated bounds, and patient i's draws are those of the shipped 400-patient trial."""
    loaded = load_sweep(SHIPPED)
    assert loaded.sweep.adherence_columns == ("lifestyle.diet", "lifestyle.activity", "lifestyle.regain")
    table = design_table(loaded)
    patients = table[table["arm"] == "control"]
    n = len(patients)
    at_goal = float(np.mean(patients["lifestyle.activity"] >= 1.0))
    binomial_sd = np.sqrt(WING_2004_ACTIVITY_GOAL_WEEK_24 * (1 - WING_2004_ACTIVITY_GOAL_WEEK_24) / n)
    assert abs(at_goal - WING_2004_ACTIVITY_GOAL_WEEK_24) < 3 * binomial_sd
    assert patients["lifestyle.activity"].between(0.0, 1.0).all()
    entries = {a.name: a for a in _arm(loaded, "lifestyle").adherence}
    assert patients["lifestyle.diet"].between(*entries["diet"].bounds).all()  # the file's stated bounds
    assert patients["lifestyle.regain"].between(*entries["regain"].range).all()
    assert patients["lifestyle.diet"].std() > 0.3  # partial and varied, not everyone at the protocol
    # some eat more than before (the DPP's lifestyle arm had those who gained weight), few are clipped
    assert 0.0 < float(np.mean(patients["lifestyle.diet"] < 0.0)) < 0.3
    assert float(np.mean(patients["lifestyle.diet"].isin(entries["diet"].bounds))) < 0.01


# ------------------------------------------------------------------ applying them
def _arm(loaded, name):
    return next(arm for arm in loaded.sweep.arms if arm.name == name)


def test_full_adherence_is_the_protocol_and_partial_adherence_scales_it(tmp_path):
    loaded = _loaded(tmp_path)
    arm = _arm(loaded, "programme")
    full = run_scenario_data(loaded, arm, {"body_weight": 90.0, "programme.diet": 1.0, "programme.activity": 1.0})
    core, later = full["changes"]
    assert core["energy_surplus_kcal_per_day"] == -200.0
    assert core["exercise"][0]["duration_min"] == 30.0
    assert later["energy_surplus_kcal_per_day"] == -50.0
    half = run_scenario_data(loaded, arm, {"body_weight": 90.0, "programme.diet": 0.5, "programme.activity": 0.5})
    core, later = half["changes"]
    assert core["energy_surplus_kcal_per_day"] == -100.0
    assert core["exercise"][0]["duration_min"] == 15.0
    assert core["exercise"][0]["weekdays"] == [0, 2, 4]
    assert later["energy_surplus_kcal_per_day"] == -25.0
    assert arm.changes[0]["energy_surplus_kcal_per_day"] == -200  # the loaded sweep is not modified


def test_zero_adherence_in_the_programme_arm_is_the_control_patient(tmp_path):
    loaded = _loaded(tmp_path)
    values = {"body_weight": 95.0, "programme.diet": 0.0, "programme.activity": 0.0}
    runs = {}
    for name in ("control", "programme"):
        data = run_scenario_data(loaded, _arm(loaded, name), values)
        data.pop("duration_years", None)
        data["duration_days"] = 150
        runs[name] = simulate(parse_scenario(data), progress=False).daily
    programme = runs["programme"]
    changes = run_scenario_data(loaded, _arm(loaded, "programme"), values)["changes"]
    assert not any(change.get("exercise") for change in changes)
    for column in ("fasting_glucose_mg_dl", "hba1c_percent", "weight_change_kg"):
        np.testing.assert_allclose(programme[column], runs["control"][column], rtol=1e-6, atol=1e-9)


def test_shipped_zero_adherence_patient_is_the_control_patient():
    """In the shipped sweep too: diet, activity and regain at 0 leave the lifestyle arm's changes inert."""
    loaded = load_sweep(SHIPPED)
    arm = _arm(loaded, "lifestyle")
    values = {v.name: 1.0 for v in loaded.sweep.variables}
    values.update({column: 0.0 for column in loaded.sweep.adherence_columns})
    changes = run_scenario_data(loaded, arm, values)["changes"]
    assert all(change.get("energy_surplus_kcal_per_day", 0.0) == 0.0 for change in changes)
    assert all(not change.get("exercise") for change in changes)
    full = {column: 1.0 for column in loaded.sweep.adherence_columns} | {"lifestyle.regain": 0.0}
    core, maintenance = run_scenario_data(loaded, arm, values | full)["changes"]
    assert core["energy_surplus_kcal_per_day"] == -312.0
    assert maintenance["energy_surplus_kcal_per_day"] == pytest.approx(-26.0)  # the protocol's weight-holding intake


# ------------------------------------------------------------------ errors
@pytest.mark.parametrize(
    ("replace", "expected"),
    [
        (
            ("mean = 0.8\nsd = 0.3", "mean = 0.8"),
            "distribution 'normal' takes mean, sd; got mean (allowed: uniform: range",
        ),
        (('distribution = "normal"', 'distribution = "beta"'), "Input should be 'uniform', 'normal' or 'lognormal'"),
        (("bounds = [0.0, 1.5]", "bounds = [1.5, 0.0]"), "'bounds' must be [low, high] with low < high"),
        (
            ('scales = ["changes[0].energy', 'scales = ["changes[5].energy'),
            "arm 'programme'.adherence: 'changes[5].energy_surplus_kcal_per_day': the arm has no 5 here",
        ),
        (
            ('scales = ["changes[0].energy_surplus_kcal_per_day"]', 'scales = ["changes[0].sleep_h"]'),
            "'changes[0].sleep_h': the arm's change has no 'sleep_h' (give it in the change)",
        ),
        (
            ('scales = ["changes[0].energy_surplus_kcal_per_day"]', 'scales = ["routine.sleep_h"]'),
            "'routine.sleep_h' must start with 'changes[i].' (a change of this arm)",
        ),
        (
            ('[[arms.adherence]]\nname = "activity"', '[[arms.adherence]]\nname = "diet"'),
            "arm 'programme': an adherence name is listed twice (diet, diet)",
        ),
        (('kind = "cohort"\nsamples = 30', 'kind = "latin_hypercube"\nsamples = 30'), "need design.kind = 'cohort'"),
        (("range = [0.0, 1.0]", "range = [0.0, 30.0]"), "with every adherence draw at the high end of its bounds"),
    ],
)
def test_bad_adherence_entries_name_file_field_and_allowed_values(tmp_path, replace, expected):
    path = write_sweep(tmp_path, ADHERENCE_SWEEP.replace(*replace))
    assert replace[0] in ADHERENCE_SWEEP
    with pytest.raises(SweepError) as error:
        load_sweep(path)
    message = str(error.value)
    assert str(path) in message
    assert expected in message, message


def test_an_adherence_entry_must_act_on_something(tmp_path):
    text = ADHERENCE_SWEEP.replace('scales = ["changes[0].exercise"]', "")
    with pytest.raises(SweepError, match=re.escape("adherence 'activity': give 'scales' or 'adds'")):
        load_sweep(write_sweep(tmp_path, text))


def test_an_adherence_draw_must_reach_a_number_or_an_exercise_list(tmp_path):
    text = ADHERENCE_SWEEP.replace('scales = ["changes[0].exercise"]', 'scales = ["changes[0].exercise[0].weekdays"]')
    with pytest.raises(SweepError, match=re.escape("it must be a number or an 'exercise' list")):
        load_sweep(write_sweep(tmp_path, text))


# ------------------------------------------------------------------ the weight check of the DPP table
def test_weight_goal_table_counts_the_share_at_the_7_percent_goal():
    """Three lifestyle patients of 100 kg: -8, -7 and -3 kg at week 24 (two at the 7 % goal), -7.5, -2 and 0 kg
    at the end (one); a patient not enrolled is left out."""
    import pandas as pd

    from glucosim.analysis.sweep import dpp

    results = pd.DataFrame(
        {
            "run_id": [0, 1, 2, 3],
            "sample": [0, 1, 2, 3],
            "arm": ["lifestyle"] * 4,
            "status": ["ok"] * 4,
            "body_weight": [100.0, 100.0, 100.0, 80.0],
        }
    )
    end = int(round(3 * 365.25)) - 1  # the last day of a 3-year run
    days = np.arange(0, end + 1)
    daily = pd.DataFrame(
        [
            {"run_id": run, "day": day, "weight_change_kg": week24 if day < end else last}
            for run, week24, last in ((0, -8.0, -7.5), (1, -7.0, -2.0), (2, -3.0, 0.0), (3, -20.0, -20.0))
            for day in days[(days == dpp.CORE_CURRICULUM_DAY) | (days == end)]
        ]
    )
    weights = dpp.weight_columns(results, daily)
    assert list(weights["weight_change_week24_kg"]) == [-8.0, -7.0, -3.0, -20.0]
    table = dpp.weight_goal_table(weights, enrolled_samples={0, 1, 2}).set_index("arm")
    assert table.loc["lifestyle", "patients"] == 3
    assert table.loc["lifestyle", "at_goal_week24_percent"] == pytest.approx(200 / 3)
    assert table.loc["lifestyle", "at_goal_end_percent"] == pytest.approx(100 / 3)
    assert table.loc["lifestyle", "weight_change_week24_kg"] == pytest.approx(-6.0)
    assert table.loc["lifestyle", "weight_change_end_percent"] == pytest.approx(-9.5 / 3)
