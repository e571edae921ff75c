"""The DPP's yearly OGTT in a sweep (``outputs.yearly_ogtt``) and the clinic's diagnosis by its 2-h glucose."""

from __future__ import annotations

import math

import numpy as np
import pytest

from glucosim.analysis.sweep.clinic import ClinicSettings, clinic_course
from glucosim.analysis.sweep.dpp import load_trial_results, markdown, trial_table
from glucosim.clinic.runner import run_protocol
from glucosim.scenario.load import parse_scenario
from glucosim.sweep import load_results, load_sweep, run_sweep
from glucosim.sweep.load import identity_json
from glucosim.sweep.scenario_edit import run_scenario_data
from glucosim.sweep.visits import OGTT_PROTOCOL, ogtt_column, ogtt_columns, visit_days, yearly_ogtt_days
from tests._sweep_helpers import write_sweep
from tests.conftest import load_tool

OGTT_SWEEP = """
name = "yearly OGTT"
base_scenario = "base.toml"
seed = 5

[design]
kind = "grid"

[[variables]]
parameter = "insulin_sensitivity_whole_body"
unit = "1"
values = [0.2, 0.6]

[outputs]
daily = ["fasting_glucose_mg_dl", "hba1c_percent"]
yearly_ogtt = true
"""

NOISELESS = ClinicSettings(fasting_glucose_cv=0.0, hba1c_cv=0.0, two_hour_glucose_cv=0.0)
DAYS = 1096  # a 3-year run: yearly visits on days 365, 730 and 1095 (the last day)


def test_the_yearly_visits_and_their_repeats_fall_inside_the_run():
    assert yearly_ogtt_days(DAYS) == [(365, 407), (730, 772), (1095, 1095)]  # the last repeat: the last day
    assert [day for k, day in enumerate(visit_days(DAYS)) if k % 2 == 0] == [0, 365, 730, 1095]
    assert ogtt_columns(2) == [ogtt_column(1), ogtt_column(1, True), ogtt_column(2), ogtt_column(2, True)]


@pytest.fixture(scope="module")
def ogtt_sweep(tmp_path_factory):
    directory = tmp_path_factory.mktemp("yearly_ogtt")
    path = write_sweep(directory, OGTT_SWEEP)
    out = directory / "out"
    run_sweep(path, out, workers=1, progress=False)
    return load_sweep(path), out


def test_each_run_keeps_the_2h_glucose_of_an_ogtt_on_its_own_state_at_the_visit(ogtt_sweep):
    loaded, out = ogtt_sweep
    results = load_results(out)
    assert (results["status"] == "ok").all()
    n_days = loaded.n_days
    for year, (visit, repeat) in enumerate(yearly_ogtt_days(n_days), start=1):
        for _, row in results.iterrows():
            values = {name: float(row[name]) for name in loaded.variable_names}
            scenario = parse_scenario(run_scenario_data(loaded, loaded.sweep.arms[0], values), source="test")
            # the test on the subject as it is that morning, simulated up to the day by the clinic itself (not
            # from the sweep's kept state): the kept state is that day's
            for column, day in ((ogtt_column(year), visit), (ogtt_column(year, True), repeat)):
                expected = run_protocol(OGTT_PROTOCOL, scenario, day=day).indices["two_hour_glucose_mg_dl"]
                assert row[column] == pytest.approx(expected, rel=2e-3)
            if repeat == visit:
                assert row[ogtt_column(year, True)] == row[ogtt_column(year)]
            else:  # 6 weeks apart: a drifting patient's two tests differ
                assert row[ogtt_column(year, True)] != row[ogtt_column(year)]
    # the low-sensitivity patient is less glucose tolerant at every visit
    low, high = results.sort_values("insulin_sensitivity_whole_body")[ogtt_columns(2)].to_numpy()
    assert (low > high).all()


def test_the_clinic_reads_the_yearly_ogtt_and_the_trial_table_says_which_test_found_each_onset(ogtt_sweep):
    loaded, out = ogtt_sweep
    seen = load_trial_results(out, loaded)
    assert "clinic_diagnosis_test" in seen.columns
    table = trial_table(seen, follow_up_years=loaded.run_years)
    assert table.attrs["yearly_ogtt"]
    text = markdown(table)
    assert "a 75-g OGTT every year" in text and "HbA1c standing in" not in text


def _results_with_ogtt(two_hour_by_run, index):
    """A results table of three runs (one failed) with 3 years of OGTT columns, and their daily table."""
    import pandas as pd

    results = pd.DataFrame({"run_id": [0, 1, 2], "sample": [0, 1, 2], "status": ["ok", "ok", "failed"]}, index=index)
    for year in (1, 2, 3):
        for repeat in (False, True):
            results[ogtt_column(year, repeat)] = [row[year - 1] for row in two_hour_by_run]
    daily = pd.concat(
        pd.DataFrame({"run_id": run, "day": np.arange(DAYS), "fasting_glucose_mg_dl": 110.0, "hba1c_percent": 5.9})
        for run in (0, 1)  # the failed run has no daily course
    )
    return results, daily


def test_clinic_outcomes_read_each_runs_own_ogtts_whatever_the_tables_index():
    from glucosim.analysis.sweep.clinic import clinic_outcomes

    results, daily = _results_with_ogtt([[150, 150, 230], [230, 150, 150], [math.nan] * 3], index=[7, 3, 5])
    seen = clinic_outcomes(results, daily, NOISELESS, screening_two_hour={0: 160.0, 1: 160.0, 2: 160.0})
    assert seen["clinic_diagnosis_day"].tolist()[:2] == [1095.0, 365.0]
    assert seen["clinic_diagnosis_test"].tolist()[:2] == ["two_hour", "two_hour"]
    assert not seen["clinic_enrolled"].iloc[2] and math.isnan(seen["clinic_diagnosis_day"].iloc[2])
    seen["arm"] = "control"
    table = trial_table(seen, follow_up_years=3.0)
    assert (table["diabetes_onsets"].iloc[0], table["onsets_by_two_hour"].iloc[0]) == (2, 2)
    assert "the 2-h glucose found 2 of the 2 onsets" in markdown(table)
    # without the yearly OGTT the share is not defined (HbA1c stood in), not 0
    without = clinic_outcomes(results.drop(columns=ogtt_columns(3)), daily, NOISELESS, {0: 160.0, 1: 160.0})
    without["arm"] = "control"
    assert math.isnan(trial_table(without, follow_up_years=3.0)["onsets_by_two_hour"].iloc[0])


def test_clinic_outcomes_refuse_ogtt_columns_of_another_schedule():
    from glucosim.analysis.sweep.clinic import clinic_outcomes

    results, daily = _results_with_ogtt([[150, 150, 230], [230, 150, 150], [math.nan] * 3], index=[0, 1, 2])
    two_years = results.drop(columns=[ogtt_column(3), ogtt_column(3, True)])
    with pytest.raises(ValueError, match="yearly OGTT"):
        clinic_outcomes(two_years, daily, NOISELESS)


@pytest.mark.parametrize(
    ("edit", "expected"),
    [
        (('daily = ["fasting_glucose_mg_dl", "hba1c_percent"]\n', ""), "fasting_glucose_mg_dl"),
        (("seed = 5\n", "seed = 5\nduration_years = 0.5\n"), "no yearly visit"),
    ],
)
def test_a_yearly_ogtt_the_clinic_could_not_use_is_refused_naming_the_field(tmp_path, edit, expected):
    from glucosim.errors import SweepError

    path = write_sweep(tmp_path, OGTT_SWEEP.replace(*edit))
    with pytest.raises(SweepError, match="outputs.yearly_ogtt") as info:
        load_sweep(path)
    assert expected in str(info.value) and str(path) in str(info.value)


def test_a_sweep_without_the_yearly_ogtt_keeps_its_identity(tmp_path):
    with_ogtt = load_sweep(write_sweep(tmp_path / "a", OGTT_SWEEP))
    without = load_sweep(write_sweep(tmp_path / "b", OGTT_SWEEP.replace("yearly_ogtt = true\n", "")))
    assert "yearly_ogtt" in identity_json(with_ogtt.sweep)
    assert "yearly_ogtt" not in identity_json(without.sweep)  # folders written before the field keep their hash


def _course(two_hour, fasting=110.0, hba1c=7.0, sample=1):
    return clinic_course(
        sample,
        np.full(DAYS, fasting),
        np.full(DAYS, hba1c),
        NOISELESS,
        screen_two_hour_mg_dl=160.0,
        yearly_two_hour_mg_dl=None if two_hour is None else np.asarray(two_hour, dtype=float),
    )


def test_with_the_yearly_ogtt_the_clinic_diagnoses_by_the_dpps_rule_not_by_hba1c():
    # HbA1c 7 % stands in for the 2-h glucose without the OGTT, and is not a DPP criterion with it
    without = _course(None)
    assert (without["diagnosis_day"], without["diagnosis_test"]) == (365.0, "hba1c")
    assert math.isnan(_course([[150, 150]] * 3)["diagnosis_day"])
    found = _course([[150, 150], [210, 205], [230, 230]])
    assert (found["diagnosis_day"], found["diagnosis_test"]) == (730.0, "two_hour")
    both = _course([[210, 210]] * 3, fasting=130.0)
    assert (both["diagnosis_day"], both["diagnosis_test"]) == (183.0, "fasting")  # the half-year visit first
    assert _course([[210, 210]] * 3, fasting=130.0, hba1c=5.0)["diagnosis_day"] == 183.0


def test_a_first_high_2h_glucose_needs_its_repeat_and_a_missing_test_diagnoses_nothing():
    assert math.isnan(_course([[210, 190], [150, 150], [150, 150]])["diagnosis_day"])
    assert math.isnan(_course([[math.nan, math.nan]] * 3)["diagnosis_day"])


def test_return_to_normal_needs_a_2h_glucose_below_140_at_the_yearly_ogtt():
    normal = _course([[150, 150], [130, 130], [130, 130]], fasting=95.0, hba1c=6.0)
    assert normal["normal_day"] == 730.0  # HbA1c 6.0 % does not matter with the OGTT
    assert math.isnan(_course([[150, 150]] * 3, fasting=95.0, hba1c=5.0)["normal_day"])
    assert _course(None, fasting=95.0, hba1c=5.0)["normal_day"] == 365.0  # without it, HbA1c stands in


def test_the_ogtt_draws_leave_the_fasting_and_hba1c_draws_as_they_were():
    """A clinic with the yearly OGTT sees the same fasting glucose tests as one without: a patient diagnosed by
    fasting glucose alone is diagnosed on the same day by both."""
    rng = np.random.default_rng(4)
    for sample in range(40):
        fasting = np.linspace(105.0, rng.uniform(115.0, 140.0), DAYS)
        hba1c = np.full(DAYS, 5.8)  # below 6.5 %: only the fasting glucose can diagnose either clinic
        without = clinic_course(sample, fasting, hba1c, ClinicSettings(), 160.0)
        with_ogtt = clinic_course(
            sample, fasting, hba1c, ClinicSettings(), 160.0, yearly_two_hour_mg_dl=[[150, 150]] * 3
        )
        assert without["diagnosis_day"] == pytest.approx(with_ogtt["diagnosis_day"], nan_ok=True)


def test_the_shipped_prevention_sweep_and_its_population_fit_run_the_yearly_ogtt():
    from glucosim.calibration.population import library_sweep, load_population_targets

    problem = load_population_targets()
    assert load_sweep(problem.sweep).sweep.outputs.yearly_ogtt
    assert library_sweep(problem).sweep.outputs.yearly_ogtt  # the library is read through the same clinic


def test_the_clinic_with_the_yearly_ogtt_is_the_rule_the_diagnosis_tool_measured():
    """tools/dpp_diagnosis.py's ``protocol`` measured the DPP's rule before the sweep ran the OGTT; the clinic's rule
    is the same, on the same draws."""
    tool = load_tool("dpp_diagnosis")
    rng = np.random.default_rng(11)
    diagnosed = 0
    for sample in range(80):
        fasting = np.linspace(100.0, rng.uniform(105.0, 135.0), DAYS)
        hba1c = np.full(DAYS, 6.0)
        yearly = rng.uniform(150.0, 240.0, (3, 2))
        yearly[2, 1] = yearly[2, 0]  # year 3's repeat falls on the run's last day, the visit's own day
        two_hour = {day: value for pair, row in zip(yearly_ogtt_days(DAYS), yearly) for day, value in zip(pair, row)}
        day, _ = tool.dpp_rule(sample, fasting, hba1c, two_hour, use_ogtt=True, use_hba1c=False)
        course = clinic_course(sample, fasting, hba1c, ClinicSettings(), 160.0, yearly_two_hour_mg_dl=yearly)
        assert course["diagnosis_day"] == pytest.approx(day, nan_ok=True)
        diagnosed += not math.isnan(day)
    assert 10 < diagnosed < 80  # the comparison saw both outcomes
