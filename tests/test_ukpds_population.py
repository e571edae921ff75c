"""tools/ukpds_population.py: UKPDS's entry criterion, the readings and medians on tiny synthetic populations whose
answers are known by hand, the diagnosis rule, and the reproducibility of the cohort's draws (no simulation)."""

import math

import numpy as np
import pandas as pd
import pytest

from tests.conftest import load_tool


@pytest.fixture(scope="module")
def tool():
    return load_tool("ukpds_population")


@pytest.mark.parametrize(
    ("mmol_l", "entered"),
    [(6.0, False), (6.09, False), (6.1, True), (8.2, True), (15.0, True), (15.01, False), (20.0, False)],
)
def test_entry_criterion_is_ukpds_fasting_window(tool, mmol_l, entered):
    # UKPDS 33: 6.1-15.0 mmol/l after 3 months of diet, both ends included (glucose 18.016 mg/dl per mmol/l)
    assert tool.meets_entry(mmol_l * 18.016) is entered


def test_entry_criterion_refuses_a_missing_value(tool):
    assert tool.meets_entry(math.nan) is False


def test_protocol_lasts_six_years_and_three_months_from_diagnosis(tool):
    assert tool.RANDOMISATION_DAYS == round(0.25 * 365.25)
    assert tool.PROTOCOL_DAYS == round(0.25 * 365.25) + round(6 * 365.25)


def synthetic_run(onset: int, n_days: int) -> pd.DataFrame:
    """A protocol run's daily table whose every day is marked: HbA1c 5 + day/10000, weight change -day/1000 kg, and a
    fasting glucose constant over 40-day blocks (so the 30-day mean at a block's end is the block's value): 100 + the
    block's number."""
    day = np.arange(n_days)
    return pd.DataFrame(
        {
            "day": day,
            "fasting_glucose_mg_dl": 100.0 + (day // 40),
            "hba1c_percent": 5.0 + day / 10000.0,
            "weight_change_kg": -day / 1000.0,
        }
    )


def test_readings_are_taken_three_months_then_one_and_six_years_after_diagnosis(tool):
    onset = 399  # day 399 ends block 9 (days 360-399): its 30-day mean is that block's value
    daily = synthetic_run(onset, onset + tool.PROTOCOL_DAYS + 1)
    row = tool.readings(daily, onset, body_weight_kg=90.0, height_cm=150.0)
    randomised = onset + 91
    assert row["hba1c_at_diagnosis"] == pytest.approx(5.0 + onset / 1e4)
    assert row["hba1c_at_entry"] == pytest.approx(5.0 + randomised / 1e4)
    assert row["hba1c_1y"] == pytest.approx(5.0 + (randomised + 365) / 1e4)
    assert row["hba1c_6y"] == pytest.approx(5.0 + (randomised + 2192) / 1e4)
    assert row["fasting_at_diagnosis_mg_dl"] == pytest.approx(109.0)
    assert row["weight_at_diagnosis_kg"] == pytest.approx(90.0 - onset / 1000.0)
    assert row["bmi_at_diagnosis"] == pytest.approx((90.0 - onset / 1000.0) / 1.5**2)
    # the highest 30-day mean after randomisation is the last day's (rising blocks): day 2682 ends a window of 27 days
    # of block 66 (166 mg/dl) and 3 of block 67
    assert onset + tool.PROTOCOL_DAYS == 2682
    assert row["max_fasting_after_entry_mg_dl"] == pytest.approx((27 * 166.0 + 3 * 167.0) / 30)


def test_fasting_reading_is_a_30_day_mean_not_one_morning(tool):
    onset = 0
    daily = synthetic_run(onset, tool.PROTOCOL_DAYS + 1)
    daily.loc[91, "fasting_glucose_mg_dl"] = 400.0  # one high morning on the day of entry
    row = tool.readings(daily, onset, body_weight_kg=90.0, height_cm=175.0)
    # days 62-91: 18 days of block 1 (101), 11 of block 2 (102), then the 400 morning
    assert row["fasting_at_entry_mg_dl"] == pytest.approx((18 * 101.0 + 11 * 102.0 + 400.0) / 30)


def test_a_run_too_short_reads_nan_not_a_wrong_day(tool):
    daily = synthetic_run(0, 500)
    row = tool.readings(daily, 0, body_weight_kg=90.0, height_cm=175.0)
    assert math.isnan(row["hba1c_6y"]) and math.isfinite(row["hba1c_1y"])


def tiny_population():
    return pd.DataFrame(
        {
            "hba1c_1y": [5.8, 6.4, 7.2, 9.0],
            "hba1c_6y": [5.9, 7.5, 8.5, 10.0],
            "fasting_1y_mg_dl": [100.0, 120.0, 140.0, 200.0],
            "fasting_6y_mg_dl": [100.0, 150.0, 170.0, 300.0],
            "max_fasting_after_entry_mg_dl": [110.0, 160.0, 180.0, 300.0],
        }
    )


def test_medians_quartiles_and_shares_of_a_tiny_population(tool):
    result = tool.summary(tiny_population())
    assert result["n"] == 4
    assert result["hba1c_1y"] == pytest.approx((6.8, 6.25, 7.65))  # numpy's linear percentiles of 4 values
    assert result["fasting_6y_mg_dl"][0] == pytest.approx(160.0)
    assert result["remission_1y"] == pytest.approx(0.25)  # 5.8 < 6.0
    assert result["remission_consensus_1y"] == pytest.approx(0.5)  # 5.8 and 6.4 < 6.5
    assert result["failure_1y"] == pytest.approx(0.5)  # 7.2 and 9.0 >= 7.0
    assert result["failure_6y"] == pytest.approx(0.75)
    assert result["rescue"] == pytest.approx(0.25)  # only 300 mg/dl is above 15 mmol/l (270.2)


def test_entry_criterion_changes_the_medians_of_a_tiny_population(tool):
    rows = tiny_population().assign(fasting_at_entry_mg_dl=[100.0, 130.0, 150.0, 280.0])
    entered = rows[[tool.meets_entry(x) for x in rows["fasting_at_entry_mg_dl"]]]
    assert list(entered["hba1c_1y"]) == [6.4, 7.2]
    assert tool.summary(entered)["hba1c_1y"][0] == pytest.approx(6.8)
    assert tool.summary(entered)["hba1c_6y"][0] == pytest.approx(8.0)
    lines = tool.report_lines(rows, entered)
    assert "n = 4" in lines[0] and "n = 2" in lines[0]


def test_quartiles_ignore_missing_values(tool):
    assert tool.quartiles([math.nan, 1.0, 3.0])[0] == pytest.approx(2.0)
    assert all(math.isnan(x) for x in tool.quartiles([math.nan]))


def test_diagnosis_is_the_first_day_fasting_glucose_reaches_126(tool):
    daily = pd.DataFrame(
        {
            "run_id": [7] * 5 + [3] * 5,
            "day": [4, 3, 2, 1, 0] + [0, 1, 2, 3, 4],  # out of order: sorted by day first
            "fasting_glucose_mg_dl": [130.0, 126.0, 125.9, 127.0, 110.0] + [110.0, 120.0, 125.99, 120.0, 100.0],
        }
    )
    # run 7: day 1 reaches 127, the first day at or above 126 (day 3 is exactly 126, later)
    assert tool.diagnosis_days(daily) == {3: None, 7: 1}


def test_population_is_the_shipped_sweep_control_arm_with_more_patients(tool):
    loaded = tool.population_sweep(40, 3.0)
    assert [arm.name for arm in loaded.sweep.arms] == ["control"]
    assert loaded.sweep.design.samples == 40
    assert loaded.sweep.seed == 20021 and loaded.sweep.screening.rule == "dpp"
    assert loaded.run_years == pytest.approx(3.0, abs=1 / 365.25)


def test_draws_are_reproducible_and_patient_i_is_the_same_at_any_size(tool):
    from glucosim.sweep.load import load_sweep
    from glucosim.sweep.runner import design_table

    names = ["insulin_sensitivity_whole_body", "beta_function_max", "routine.drift.whole_body_per_year", "body_weight"]
    small = design_table(tool.population_sweep(30, 3.0))[names].to_numpy()
    again = design_table(tool.population_sweep.__wrapped__(30, 3.0))[names].to_numpy()
    large = design_table(tool.population_sweep(60, 3.0))[names].to_numpy()
    np.testing.assert_array_equal(small, again)
    np.testing.assert_array_equal(small, large[:30])
    assert not np.array_equal(large[:30], large[30:])
    # and they are the shipped prevention sweep's patients (its control arm), lifestyle arm dropped or not
    shipped = design_table(load_sweep(str(tool.SWEEP)))
    shipped = shipped[shipped["arm"] == "control"].sort_values("sample")[names].to_numpy()
    np.testing.assert_array_equal(large, shipped[:60])


def test_reading_from_diagnosis_is_the_one_subject_reading(tool):
    """With the diagnosis at the first 126-mg/dl day, the readings counted from it are course_measures' own when it
    reads from the diagnosis (the scenario's own table, no protocol table: the one subject's protocol counts from
    randomisation after a presentation at HbA1c 9.1 %, which a screen-detected population does not wait for)."""
    from glucosim.calibration.course import course_measures

    onset = 399
    daily = synthetic_run(onset, onset + tool.PROTOCOL_DAYS + 1)
    daily["fasting_glucose_mg_dl"] = np.where(daily["day"] < onset, 110.0, 126.0 + (daily["day"] - onset) // 40)
    daily["homa_b"] = 50.0
    daily = daily.set_index("day", drop=False)
    row = tool.readings(daily, onset, body_weight_kg=90.0, height_cm=175.0)
    one_subject = course_measures(daily, 90.0)
    assert one_subject["diagnosis_year"] * 365.25 == pytest.approx(onset)
    assert row["hba1c_1y_from_diagnosis"] == one_subject["hba1c_1y_after_diagnosis_percent"]
    assert row["hba1c_6y_from_diagnosis"] == one_subject["hba1c_6y_after_diagnosis_percent"]
    assert row["fasting_1y_from_diagnosis_mg_dl"] == pytest.approx(
        one_subject["fasting_glucose_1y_after_diagnosis_mg_dl"]
    )
