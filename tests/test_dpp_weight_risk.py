"""The trial table's weight checks: the year-1 share at a 5 % loss (Apolzan 2019) and the hazard ratio of diabetes
per 5 kg of weight lost within the lifestyle arm (Hamman 2006), estimated as Hamman estimated it."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from glucosim.analysis.sweep import dpp
from glucosim.sweep.visits import visit_days

pytest.importorskip("lifelines")

FOLLOW_UP_DAYS = dpp.closing_visit_day(dpp.FOLLOW_UP_YEARS)


def _arm_with_known_risk(true_ratio_per_5_kg: float, n: int = 4000, seed: int = 7):
    """An arm whose onsets follow a Cox model with a known hazard ratio per 5 kg of weight lost: each patient
    loses weight at the first visit and keeps it; onsets are exponential at a baseline rate of 10 per 100
    person-years times the ratio to the loss, from the first visit (where the covariate takes its value) on."""
    rng = np.random.default_rng(seed)
    days = visit_days(FOLLOW_UP_DAYS)
    loss_kg = np.clip(rng.normal(6.0, 4.0, n), -4.0, 20.0)
    rate_per_day = 0.10 / 365.25 * true_ratio_per_5_kg ** (loss_kg / 5.0)
    onset = days[1] + rng.exponential(1.0 / rate_per_day)
    onset = np.where(onset <= FOLLOW_UP_DAYS, np.ceil(onset), np.nan)
    runs = pd.DataFrame({"clinic_diagnosis_day": onset, "body_weight": rng.normal(93.5, 15.0, n).clip(60.0, 150.0)})
    for k in range(len(days)):
        runs[f"{dpp.VISIT_WEIGHT_PREFIX}{k}_kg"] = 0.0 if k == 0 else -loss_kg
    return runs


@pytest.mark.parametrize("true_ratio", [0.49, 0.25])
def test_the_weight_hazard_ratio_recovers_a_known_one(true_ratio):
    """Within 3 standard errors (the seed is fixed; 0.3 % of seeds would miss), and the standard error small
    enough to tell the DPP's 0.49 from the model's ~0.28 (their logs differ by 0.56)."""
    ratio, low, high, onsets = dpp.weight_hazard_ratio(_arm_with_known_risk(true_ratio))
    assert onsets > 300
    standard_error = (math.log(high) - math.log(low)) / (2 * 1.96)
    assert standard_error < 0.1
    assert abs(math.log(ratio) - math.log(true_ratio)) < 3 * standard_error


def test_the_weight_hazard_ratio_is_not_estimated_without_weight_change():
    """The model's control arm keeps its weight (a few hundred grams): no ratio, so no verdict."""
    runs = _arm_with_known_risk(0.5)
    for column in [c for c in runs.columns if c.startswith(dpp.VISIT_WEIGHT_PREFIX)]:
        runs[column] = -0.1
    assert all(math.isnan(value) for value in dpp.weight_hazard_ratio(runs)[:3])


def test_a_visit_weight_holds_until_the_next_visit():
    """Onsets before the first visit after baseline see the baseline weight, no loss yet: an arm whose every onset
    falls there says nothing of the weight's effect (not identified: no ratio), though its later weights differ."""
    runs = _arm_with_known_risk(0.3)
    early = runs["clinic_diagnosis_day"].notna()
    first_visit = visit_days(FOLLOW_UP_DAYS)[1]  # day 183
    for day in (100.0, float(first_visit)):  # before visit 1, and diagnosed at it: visit 0's weight (no loss)
        runs.loc[early, "clinic_diagnosis_day"] = day
        assert all(math.isnan(value) for value in dpp.weight_hazard_ratio(runs)[:3])
    runs.loc[early, "clinic_diagnosis_day"] = first_visit + 1.0  # after it: visit 1's weight applies
    assert dpp.weight_hazard_ratio(runs)[0] < 0.5


def test_without_baseline_weights_the_ratio_is_not_adjusted_for_them():
    """A sweep that does not vary body weight (no column, or one value for all): the ratio without that term,
    not a crash; a NaN baseline weight gives no ratio."""
    runs = _arm_with_known_risk(0.49)
    adjusted = dpp.weight_hazard_ratio(runs)[0]
    unadjusted = dpp.weight_hazard_ratio(runs.drop(columns="body_weight"))[0]
    assert unadjusted == pytest.approx(dpp.weight_hazard_ratio(runs.assign(body_weight=90.0))[0])
    assert unadjusted == pytest.approx(adjusted, rel=0.05)  # baseline weight is drawn apart from the risk here
    runs.loc[0, "body_weight"] = float("nan")
    assert math.isnan(dpp.weight_hazard_ratio(runs)[0])


def test_weight_columns_read_every_visit_and_year_one():
    results = pd.DataFrame({"run_id": [0], "sample": [0], "arm": ["lifestyle"], "status": ["ok"]})
    days = np.arange(FOLLOW_UP_DAYS)
    daily = pd.DataFrame({"run_id": 0, "day": days, "weight_change_kg": -days / 100.0})
    out = dpp.weight_columns(results, daily)
    assert out.loc[0, "weight_change_year1_kg"] == pytest.approx(-dpp.YEAR_ONE_DAY / 100.0)
    for k, day in enumerate(visit_days(FOLLOW_UP_DAYS)):
        assert out.loc[0, f"{dpp.VISIT_WEIGHT_PREFIX}{k}_kg"] == pytest.approx(-day / 100.0)
    # a 1-year run (days 0-364): year 1 is its own year-1 visit, the last day; a half-year run has none
    one_year = dpp.weight_columns(results, daily[daily["day"] < 365], follow_up_years=1.0)
    assert one_year.loc[0, "weight_change_year1_kg"] == pytest.approx(-3.64)
    half_year = dpp.weight_columns(results, daily[daily["day"] < 183], follow_up_years=0.5)
    assert math.isnan(half_year.loc[0, "weight_change_year1_kg"])


def test_the_year_one_share_counts_a_5_percent_loss():
    results = pd.DataFrame(
        {
            "arm": ["lifestyle"] * 4,
            "status": ["ok"] * 4,
            "sample": [0, 1, 2, 3],
            "body_weight": [100.0, 100.0, 80.0, 100.0],
            "weight_change_week24_kg": [-8.0, -6.0, -4.0, 1.0],
            "weight_change_year1_kg": [-5.0, -4.9, -4.0, float("nan")],  # 5 %, 4.9 %, 5 % of 80 kg, not read
            "weight_change_end_kg": [-7.0, 0.0, 0.0, 0.0],
        }
    )
    row = dpp.weight_goal_table(results).iloc[0]
    assert row["at_goal_year1_percent"] == pytest.approx(200 / 3)  # 2 of the 3 read
    assert row["at_goal_week24_percent"] == pytest.approx(25.0)  # the 7 % goal at week 24


def test_the_table_gives_the_lifestyle_arm_a_verdict_and_the_control_arm_none():
    lifestyle = _arm_with_known_risk(0.49, n=1500)
    control = lifestyle.copy()
    for column in [c for c in control.columns if c.startswith(dpp.VISIT_WEIGHT_PREFIX)]:
        control[column] = 0.0
    runs = pd.concat([control.assign(arm="control"), lifestyle.assign(arm="lifestyle")], ignore_index=True)
    runs["sample"] = np.tile(np.arange(len(lifestyle)), 2)
    runs["status"] = "ok"
    runs["clinic_enrolled"] = True
    runs["clinic_normal_day"] = np.nan
    table = dpp.trial_table(runs, "control").set_index("arm")
    assert math.isnan(table.loc["control", "weight_hazard_ratio"])
    low, high = table.loc["lifestyle", ["weight_hazard_ratio_low", "weight_hazard_ratio_high"]]
    assert low < 0.49 < high
    lines = [line for line in dpp.verdicts(table.reset_index()) if "per 5 kg" in line]
    assert len(lines) == 1 and lines[0].startswith("lifestyle:") and "Hamman 2006" in lines[0]


def _short_of_goal_arm(walkers_rate: float, others_rate: float, n: int = 3000, seed: int = 3):
    """Lifestyle runs all short of the 7 % goal at year 1 except a tenth; onsets after year 1 at a known rate
    (per 100 person-years) in those at the activity goal and in those short of it; the goal-meeters and the
    onsets before year 1 must not count."""
    rng = np.random.default_rng(seed)
    at_goal = rng.random(n) < 0.6
    rate = np.where(at_goal, walkers_rate, others_rate) / 100.0 / 365.25
    onset = dpp.YEAR_ONE_DAY + rng.exponential(1.0 / rate)
    onset = np.where(onset <= FOLLOW_UP_DAYS, np.ceil(onset), np.nan)
    loss_fraction = np.where(rng.random(n) < 0.1, 0.10, 0.04)  # a tenth at the weight goal
    onset = np.where(loss_fraction >= 0.07, 400.0, onset)  # ... whose onsets would otherwise skew the ratio
    early = rng.random(n) < 0.05
    onset = np.where(early, 100.0, onset)  # diabetic before year 1: not at risk after it
    return pd.DataFrame(
        {
            "clinic_diagnosis_day": onset,
            "body_weight": 100.0,
            "weight_change_year1_kg": -100.0 * loss_fraction,
            "lifestyle.activity": np.where(at_goal, 1.0, 0.6),
        }
    )


def test_the_activity_goal_comparison_counts_those_short_of_the_weight_goal_after_year_one():
    reduction, low, high = dpp.activity_goal_reduction(_short_of_goal_arm(6.0, 10.0), "lifestyle")
    assert low < 40.0 < high  # 1 - 6/10
    assert high - low < 40.0
    no_difference = dpp.activity_goal_reduction(_short_of_goal_arm(8.0, 8.0), "lifestyle")
    assert no_difference[1] < 0.0 < no_difference[2]
    none_among_walkers = _short_of_goal_arm(6.0, 10.0)
    walkers = none_among_walkers["lifestyle.activity"] >= 1.0
    none_among_walkers.loc[
        walkers & (none_among_walkers["clinic_diagnosis_day"] > dpp.YEAR_ONE_DAY), "clinic_diagnosis_day"
    ] = np.nan
    assert all(math.isnan(v) for v in dpp.activity_goal_reduction(none_among_walkers, "lifestyle"))


def test_the_activity_goal_comparison_needs_the_arms_activity_draw():
    runs = _short_of_goal_arm(6.0, 10.0)
    assert all(math.isnan(v) for v in dpp.activity_goal_reduction(runs, "other_arm"))
    assert all(
        math.isnan(v) for v in dpp.activity_goal_reduction(runs.drop(columns="weight_change_year1_kg"), "lifestyle")
    )
