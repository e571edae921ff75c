"""The Bloem 2008 validation case's protocol (short_term_exercise_igt): subject, intensity, test gap, weight held."""

import pytest

from glucosim._toml import load_toml
from glucosim.clinic.runner import REFERENCE_ROUTINE_PATH
from glucosim.parameters import load_parameter_table
from glucosim.physiology.body import atwater_kcal_per_g
from glucosim.validation.cases import (
    BLOEM_SUBJECT,
    BLOEM_TEST_DAY,
    EAT_BACK_ENERGY_SHARES,
    _percent_change,
    bloem_intensity_pct_vo2max,
    bloem_session,
    eaten_back_snack,
    short_term_exercise_ivgtt,
    walking_energy_kcal_per_day,
)


def test_the_test_comes_17_5_h_after_the_seventh_session():
    # sessions on days 1-7 (every weekday), the morning test (before the first meal) on day 8: 17.5 h after the last
    # session's end, the middle of Bloem's 15-20 h, as the case file chose before the exercised arm was run
    session = bloem_session()
    assert sorted(session["weekdays"]) == list(range(7)) and BLOEM_TEST_DAY == 8
    test_h = load_toml(REFERENCE_ROUTINE_PATH)["meals"][0]["time_h"]
    gap_h = 24.0 + test_h - (session["start_h"] + session["duration_min"] / 60.0)
    assert gap_h == 17.5
    assert session["duration_min"] == 60.0


def test_the_intensity_is_65_percent_of_the_reserve_above_rest():
    # 60-70 % of heart-rate reserve taken as the same fraction of VO2 reserve above glucosim's rest (8 % VO2max)
    low, middle, high = (bloem_intensity_pct_vo2max(f) for f in (0.60, 0.65, 0.70))
    assert 63.0 < low < middle < high < 73.0
    assert bloem_session()["intensity_pct_vo2max"] == middle


def test_the_subject_has_igt_and_the_week_leaves_weight_and_an_unexercised_subject_alone():
    exercised = short_term_exercise_ivgtt(True, ogtt=True)
    control = short_term_exercise_ivgtt(False, ogtt=True)
    # IGT at baseline (2-h OGTT 140-199 mg/dl, fasting below diabetes), the highest sensitivity in steps of 0.02
    # that is: 0.02 more gives normal tolerance
    assert 140.0 <= control["ogtt_two_hour_glucose_mg_dl"] < 200.0
    assert control["ogtt_fasting_glucose_mg_dl"] < 126.0
    above = short_term_exercise_ivgtt(
        False, {"insulin_sensitivity_whole_body": BLOEM_SUBJECT["insulin_sensitivity_whole_body"] + 0.02}, ogtt=True
    )
    assert above["ogtt_two_hour_glucose_mg_dl"] < 140.0
    # the day-0 OGTT is before any session, so both arms share it
    assert exercised["ogtt_two_hour_glucose_mg_dl"] == control["ogtt_two_hour_glucose_mg_dl"]
    # Bloem: body weight unchanged; the sessions' energy is eaten back
    assert abs(exercised["weight_change_kg"] - control["weight_change_kg"]) < 0.3
    # the exercise reaches the test through the post-exercise and training states (set on the exercised arm only)
    assert control["post_exercise_sensitivity"] == 0.0 and control["training_level"] == 0.0
    assert exercised["post_exercise_sensitivity"] > 0.0 and exercised["training_level"] > 0.0


def test_the_eaten_back_food_refills_the_liver_so_a_healthy_subject_keeps_its_fasting_glucose():
    # each session's hepatic output comes from the liver's glycogen; eaten back as energy alone (no carbohydrate
    # reaching the gut, the protocol until 2026-12-06) a healthy subject's store fell 519 -> 207 mg/kg over the week
    # and its fasting glucose 80 -> 64 mg/dl, where people's does not move (Bloem 2008: unchanged)
    snack = eaten_back_snack(bloem_session(), BLOEM_SUBJECT["body_weight"])
    kcal_per_g = atwater_kcal_per_g(load_parameter_table().vector())
    snack_kcal = sum(snack[name] * kcal_per_g[name] for name in kcal_per_g)
    assert snack_kcal == pytest.approx(walking_energy_kcal_per_day(bloem_session(), BLOEM_SUBJECT["body_weight"]))
    # mixed food: carbohydrate reaches the gut, at the protocol's share of the energy
    carbohydrate_share = snack["carbs_g"] * kcal_per_g["carbs_g"] / snack_kcal
    assert carbohydrate_share == pytest.approx(EAT_BACK_ENERGY_SHARES["carbs_g"]) and carbohydrate_share > 0.4
    healthy = {"insulin_sensitivity_whole_body": 1.0}
    exercised = short_term_exercise_ivgtt(True, healthy)
    control = short_term_exercise_ivgtt(False, healthy)
    assert exercised["liver_glycogen_mg_kg"] > 0.8 * control["liver_glycogen_mg_kg"]
    assert abs(exercised["fasting_glucose_mg_dl"] - control["fasting_glucose_mg_dl"]) < 5.0


@pytest.mark.xfail(
    strict=True,
    reason="known since the second phase's slow part (2026-12-07, twenty-eighth session; CHANGELOG): the eaten-back "
    "food alone moves the Bloem subject's minimal-model SI by +15.8 % (its carbohydrate fills the resistant liver's "
    "store, 569 -> 962 mg/kg, and fasting glucose rises 4.4 mg/dl), against +167 % with the exercise terms",
)
def test_without_the_exercise_terms_the_week_barely_changes_si():
    # the session's own uptake and the food eaten back barely reach the next morning's SI: the change is the two
    # exercise terms' (post_exercise_sensitivity_gain, training_gain), as the case's remark says. The eaten-back food
    # alone moves SI by ~+2.5 % (its carbohydrate fills the resistant liver's store, 550 -> 940 mg/kg, since the
    # diabetic liver's glycogen balance was calibrated; ~-2.5 % before it, and -0.1 % with the energy eaten back as
    # energy alone, until 2026-12-06), against the week's ~+132 % with the terms
    off = {"post_exercise_sensitivity_gain": 0.0, "training_gain": 0.0}
    exercised = short_term_exercise_ivgtt(True, off)
    control = short_term_exercise_ivgtt(False, off)
    assert abs(_percent_change(exercised["si_1e4_per_min_per_uU_ml"], control["si_1e4_per_min_per_uU_ml"])) < 5.0
