"""The IVGTT case's reader (validation.cases.ivgtt_shape) on a curve with known answers, and the case file's
published numbers as that reader gives them from the published time course."""

import numpy as np
import pytest

from glucosim.validation.cases import ivgtt_shape, load_cases, published_ivgtt_lean

SAMPLES = (0, 2, 3, 4, 5, 6, 8, 10, 12, 14, 16, 19, 22, 25, 30, 40, 50, 60, 70, 80, 90, 100, 120, 140, 160, 180)


def test_a_curve_with_known_answers_reads_as_computed_by_hand():
    # glucose: 100 fasting, 80 at 90 min and 90 at 60 and 120 (the deeper dip at 10 min is before the 60-min
    # search); insulin: 10 fasting, 50 over 2-10 min (AIRg 40), 20 over 19-40 min (increment 10): ratio 0.25. Each
    # curve has its own times, none of them the protocol's between 60 and 90 min, so the reader interpolates.
    glucose_time = [0.0, 10.0, 60.0, 90.0, 120.0, 180.0]
    glucose = [100.0, 50.0, 90.0, 80.0, 90.0, 95.0]
    insulin_time = [0.0, 1.0, 2.0, 10.0, 11.0, 19.0, 40.0, 41.0, 180.0]
    insulin = [10.0, 10.0, 50.0, 50.0, 20.0, 20.0, 20.0, 10.0, 10.0]
    shape = ivgtt_shape(glucose_time, glucose, insulin_time, insulin, SAMPLES)
    assert shape["glucose_nadir_below_fasting_percent"] == pytest.approx(-20.0)
    assert shape["glucose_nadir_time_min"] == 90.0
    assert shape["second_phase_over_first_phase"] == pytest.approx(10.0 / 40.0)


def test_the_fasting_values_are_the_first_samples_not_the_interpolated_zero():
    # a digitized curve's fasting point sits before 0 min: it is the fasting value, whatever the curve does at 0
    shape = ivgtt_shape([-2.0, 5.0, 90.0], [90.0, 300.0, 72.0], [-2.0, 5.0, 180.0], [10.0, 110.0, 10.0], SAMPLES)
    assert shape["glucose_nadir_below_fasting_percent"] == pytest.approx(100.0 * (72.0 / 90.0 - 1.0))


def test_the_ivgtt_cases_published_numbers_are_its_published_time_course_read_as_glucosim_is_read():
    # the case file's published values are derived, not typed in: Bergman 1981's digitized curves read by the same
    # function, at the same sampling times, as glucosim's samples (a transcription error would show here)
    case = next(case for case in load_cases() if case.id == "ivgtt_time_course_healthy")
    derived = published_ivgtt_lean()
    read_from_the_curves = [quantity for quantity in case.quantities if quantity.name in derived]
    assert len(read_from_the_curves) == len(derived) == 3
    for quantity in read_from_the_curves:
        assert quantity.published == pytest.approx(derived[quantity.name], abs=0.05 if quantity.unit == "%" else 5e-4)
        assert quantity.low <= quantity.published <= quantity.high
    assert np.isfinite(list(derived.values())).all()
