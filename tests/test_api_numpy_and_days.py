"""The Python API takes numpy's scalars where it takes numbers, and refuses a test day that is not a whole day with
the option's name (a bad-input hunt, 2026-12-03: duration_days=np.int64(3), until_day=np.int64(3) and
trajectory_days=np.array([1, 2]) were refused as not whole numbers; run_protocol(day="3") and day=2.7 raised
TypeErrors from inside the run)."""

from __future__ import annotations

import numpy as np
import pytest

import glucosim
from glucosim.errors import ClinicError


def test_numpy_numbers_are_numbers():
    loaded = glucosim.load_scenario(
        "01_healthy_baseline",
        duration_days=np.int64(3),
        sleep_h=np.float64(7.0),
        routine={"carbs_scale": np.float32(1.5)},
    )
    assert loaded.scenario.duration_days == 3 and loaded.scenario.routine.sleep_h == 7.0
    assert loaded.scenario.routine.carbs_scale == 1.5
    result = glucosim.simulate(loaded, until_day=np.int64(2), trajectory_days=np.array([0, 1]), progress=False)
    assert len(result.daily) == 2


@pytest.mark.parametrize("day", ["3", 2.7, -1, True, float("nan")])
def test_a_test_day_that_is_not_a_whole_day_names_the_option(day):
    with pytest.raises(ClinicError, match=r"day: .* is not a day to test on; allowed: whole days from 0"):
        glucosim.run_protocol("fasting", "healthy", day=day)


def test_a_numpy_test_day_is_a_day():
    by_numpy = glucosim.run_protocol("fasting", "healthy", day=np.int64(0))
    by_int = glucosim.run_protocol("fasting", "healthy", day=0)
    assert by_numpy.indices == by_int.indices


def test_a_namedtuple_in_the_overrides_is_read_as_a_tuple():
    from collections import namedtuple

    from glucosim.api import _plain

    Pair = namedtuple("Pair", "x y")
    assert _plain(Pair(np.int64(1), np.float64(2.5))) == (1, 2.5)
    assert _plain([np.int64(1), {"a": np.float32(0.5)}]) == [1, {"a": 0.5}]
    assert isinstance(_plain(np.int64(3)), int) and isinstance(_plain(np.arange(2)), np.ndarray)
