"""The walking validation case's protocol (Duncan 2003): the test day's gap after the last session, weight held."""

from glucosim._toml import load_toml
from glucosim.clinic.runner import REFERENCE_ROUTINE_PATH
from glucosim.validation.cases import (
    WALK_SUBJECT,
    WALK_TEST_DAY,
    walking_energy_kcal_per_day,
    walking_scenario,
    walking_training_ivgtt,
)


def test_the_test_comes_about_37_h_after_the_last_session():
    # the morning test (before the first meal) on a rest day, two days after the last session: the gap the case
    # file chose before the trained arm was run (Duncan's gap is not in the abstract), read off the simulated days
    import pandas as pd

    import glucosim

    days = tuple(range(WALK_TEST_DAY - 6, WALK_TEST_DAY + 1))
    result = glucosim.simulate(walking_scenario(True), progress=False, trajectory_days=days)
    trace = pd.concat([result.trace(day) for day in days])
    minutes = trace["time_min"].to_numpy()
    exercising = trace["exercise_intensity_pct"].to_numpy() > 0.0
    test_min = WALK_TEST_DAY * 24 * 60 + 60.0 * load_toml(REFERENCE_ROUTINE_PATH)["meals"][0]["time_h"]
    last_session_end_min = minutes[exercising & (minutes < test_min)].max()
    assert abs((test_min - last_session_end_min) / 60.0 - 37.0) < 0.1
    assert not exercising[(minutes > last_session_end_min) & (minutes <= test_min)].any()


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
