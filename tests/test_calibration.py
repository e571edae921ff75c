"""The calibrated values in the parameter table match what tools/calibrate.py reproduces."""

import importlib.util

import pytest

from glucosim.parameters import load_parameter_table
from tests.conftest import REPO


def test_table_matches_calibration_script():
    spec = importlib.util.spec_from_file_location("calibrate", REPO / "tools" / "calibrate.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    calibrated = module.calibrate()
    table = load_parameter_table()
    assert table["secretion_max"].value == pytest.approx(calibrated["secretion_max"], rel=0.005)
    assert table["insulin_mean_reference"].value == pytest.approx(calibrated["insulin_mean_reference"], rel=0.005)
    assert table["nefa_mean_reference"].value == pytest.approx(calibrated["nefa_mean_reference"], rel=0.005)
