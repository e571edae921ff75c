"""The course targets of beta-cell decline (validation/course/) and how their quantities are read off a run."""

import math

import numpy as np
import pandas as pd
import pytest

from glucosim.calibration.course import MEASURES, course_measures, load_course_targets, objective


def test_course_targets_load_and_name_known_measures():
    targets = load_course_targets()
    assert {target.kind for target in targets} == {"fit", "validation"}
    for target in targets:
        assert target.measure in MEASURES
        assert target.low <= target.published <= target.high and target.spread > 0
        assert len(target.source) > 40


def _daily(fasting):
    fasting = np.asarray(fasting, dtype=float)
    return pd.DataFrame(
        {"fasting_glucose_mg_dl": fasting, "hba1c_percent": (fasting + 46.7) / 28.7, "homa_b": 100.0 - 0.1 * fasting}
    )


def test_course_measures_read_the_diagnosis_and_the_years_around_it():
    days = np.arange(int(15 * 365.25))
    fasting = 90.0 + 3.0 * days / 365.25  # +3 mg/dl a year: 100 at year 3.3, 126 at year 12
    measures = course_measures(_daily(fasting))
    assert measures["diagnosis_year"] == pytest.approx(12.0, abs=0.01)
    assert measures["years_fasting_100_to_126"] == pytest.approx(26.0 / 3.0, abs=0.01)
    # a 30-day trailing mean lags half a month: 126 - 9 = 117 less ~0.12
    assert measures["fasting_glucose_3y_before_diagnosis_mg_dl"] == pytest.approx(117.0, abs=0.3)
    assert math.isnan(measures["fasting_glucose_rise_1_to_6y_after_diagnosis_mg_dl"])  # the run ends too soon


def test_a_run_without_diagnosis_scores_infinitely_badly():
    measures = course_measures(_daily(np.full(400, 95.0)))
    assert all(math.isnan(value) for value in measures.values())
    targets = load_course_targets()
    assert objective(targets, {target.scenario: measures for target in targets}) == math.inf
