"""tools/postprandial_day.py: the day measures on a synthetic 5-minute trace whose answers are known by hand."""

import numpy as np
import pandas as pd
import pytest

from tests.conftest import load_tool


@pytest.fixture(scope="module")
def tool():
    return load_tool("postprandial_day")


def synthetic_trace(fasting=120.0, rise=60.0, egp_basal=2.0, egp_fed=1.0):
    """A flat day at ``fasting`` with a 2-h square excursion of ``rise`` after each meal (07:30, 12:30, 19:00)
    starting 30 min after it; liver output ``egp_fed`` while glucose is up, else ``egp_basal``."""
    clock = np.arange(0.0, 24.0, 5.0 / 60.0)
    up = np.zeros_like(clock, dtype=bool)
    for meal in (7.5, 12.5, 19.0):
        up |= (clock >= meal + 0.5 - 1e-9) & (clock < meal + 2.5 - 1e-9)
    glucose = np.where(up, fasting + rise, fasting)
    flux = np.ones_like(clock)
    return pd.DataFrame(
        {
            "clock_h": clock,
            "glucose_mg_dl": glucose,
            "insulin_uU_ml": np.where(up, 50.0, 10.0),
            "liver_output_mg_kg_min": np.where(up, egp_fed, egp_basal),
            "secretion_pmol_kg_min": np.where(up, 5.0, 1.0),
            "muscle_uptake_mg_kg_min": flux,
            "adipose_uptake_mg_kg_min": 0.1 * flux,
            "brain_uptake_mg_kg_min": flux,
            "splanchnic_uptake_mg_kg_min": 0.4 * flux,
            "liver_uptake_mg_kg_min": 0.2 * flux,
            "gut_appearance_mg_kg_min": np.where(up, 3.0, 0.0),
            "renal_excretion_mg_kg_min": 0.0 * flux,
        }
    )


def test_glucose_measures_of_a_known_day(tool):
    m = tool.day_measures(synthetic_trace(fasting=120.0, rise=60.0), [7.5, 12.5, 19.0])
    assert m["fasting"] == pytest.approx(120.0)
    assert m["meal1_rise"] == pytest.approx(60.0) and m["meal3_peak"] == pytest.approx(180.0)
    assert m["meal2_peak_min"] == pytest.approx(30.0)  # the first reading of the excursion
    # 6 of 24 hours at +60: the mean is 15 above fasting
    assert m["mean_24h"] == pytest.approx(135.0) and m["excess_over_fasting"] == pytest.approx(15.0)
    assert m["meal1_2h"] == pytest.approx(180.0)
    # Monnier's points: 3 h after breakfast (10:30, after the 08:00-10:00 excursion), 2 h after lunch (14:30,
    # inside 13:00-15:00), 5 h after lunch (17:30)
    assert m["breakfast_3h_over_fasting"] == pytest.approx(0.0)
    assert m["lunch_2h_over_fasting"] == pytest.approx(60.0)
    assert m["lunch_5h_over_fasting"] == pytest.approx(0.0)
    # daytime window 07:30-17:00 holds two excursions (4 h at 180): above fasting 4 h x 60, above 110 also the
    # 9.5 h x 10 of the fasting level itself
    assert m["postprandial_share_pct"] == pytest.approx(100.0 * 4 * 60 / (4 * 70 + 5.5 * 10))


def test_liver_suppression_of_a_known_day(tool):
    m = tool.day_measures(synthetic_trace(egp_basal=2.0, egp_fed=1.0), [7.5, 12.5, 19.0])
    assert m["egp_basal"] == pytest.approx(2.0) and m["egp_nadir"] == pytest.approx(1.0)
    # 0-4 h after breakfast: 2 of 4 hours at half of basal
    assert m["egp_suppression_0_4h_pct"] == pytest.approx(25.0)
    assert m["uptake_basal"] == pytest.approx(2.7)


def test_a_fasting_day_has_no_postprandial_excess(tool):
    m = tool.day_measures(synthetic_trace(fasting=140.0, rise=0.0), [7.5, 12.5, 19.0])
    assert m["excess_over_fasting"] == pytest.approx(0.0)
    assert m["postprandial_share_pct"] == pytest.approx(0.0)


def test_the_postprandial_share_needs_fasting_hyperglycaemia(tool):
    m = tool.day_measures(synthetic_trace(fasting=90.0, rise=60.0), [7.5, 12.5, 19.0])
    assert np.isnan(m["postprandial_share_pct"])


def test_the_marked_days_are_the_diagnosis_or_under_the_protocol_the_presentation_and_randomisation_years(tool):
    """Without a presentation the days are the diagnosis and 1 and 6 years after it; with one (the untreated run's,
    passed in: on the protocol run the diet lowers the presentation day's HbA1c below 9.1 %), the presentation and 1
    and 6 years after randomisation, the days glucosim.calibration.course.course_measures reads."""
    from glucosim.calibration.course import UKPDS_RUN_IN_DAYS

    days = 12_000
    fasting = np.where(np.arange(days) < 4000, 110.0, 130.0)  # diagnosed on day 4000
    daily = pd.DataFrame({"fasting_glucose_mg_dl": fasting})
    assert tool.marked_days(daily) == [("diagnosis", 4000), ("+1 y", 4365), ("+6 y", 6192)]
    randomised = 4300 + UKPDS_RUN_IN_DAYS
    assert tool.marked_days(daily, presented=4300) == [
        ("presentation", 4300),
        ("+1 y", round(randomised + 365.25)),
        ("+6 y", round(randomised + 6 * 365.25)),
    ]
