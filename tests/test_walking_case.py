"""The walking validation case's protocol (Duncan 2003): the test day's gap after the last session, weight held."""

from glucosim._toml import load_toml
from glucosim.clinic.runner import REFERENCE_ROUTINE_PATH
from glucosim.validation.cases import (
    WALK_SESSION,
    WALK_SUBJECT,
    WALK_TEST_DAY,
    walking_energy_kcal_per_day,
    walking_training_ivgtt,
)


def test_the_test_comes_about_37_h_after_the_last_session():
    # the morning test (before the first meal) on a rest day, two days after the last session: the gap the case
    # file chose before the trained arm was run (Duncan's gap is not in the abstract)
    weekdays = set(WALK_SESSION["weekdays"])
    last = next(back for back in range(1, 8) if (WALK_TEST_DAY - back) % 7 in weekdays)
    test_h = load_toml(REFERENCE_ROUTINE_PATH)["meals"][0]["time_h"]
    session_end_h = WALK_SESSION["start_h"] + WALK_SESSION["duration_min"] / 60.0
    assert 24.0 * last + test_h - session_end_h == 37.0


def test_the_walking_energy_is_eaten_back_and_weight_stays():
    # Duncan: BMI and waist unchanged after 6 months; a weight change over 1 kg (~0.3 BMI units) would make the
    # case a weight-loss trial. The energy eaten back is glucosim's own cost of the sessions (~240 kcal/day here).
    assert 200.0 < walking_energy_kcal_per_day() < 280.0
    trained = walking_training_ivgtt(True)[WALK_TEST_DAY]
    untrained = walking_training_ivgtt(False)[WALK_TEST_DAY]
    assert abs(trained["weight_change_kg"] - untrained["weight_change_kg"]) < 1.0
    # the subject's baseline sensitivity is Duncan's mean (2.54e-4 /min per uU/ml) within a tenth
    assert abs(untrained["si_1e4_per_min_per_uU_ml"] - 2.54) < 0.254
    assert WALK_SUBJECT["body_weight"] == round(28.9 * 1.75**2, 1)
