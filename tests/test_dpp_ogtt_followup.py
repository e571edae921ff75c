"""tools/dpp_ogtt_followup.py: its HbA1c rule is the virtual clinic's, and its OGTT rule diagnoses, confirms and
returns to normal as the DPP's rule reads, on synthetic courses (no simulation)."""

import importlib.util
import math
from pathlib import Path

import numpy as np
import pytest

from glucosim.analysis.sweep.clinic import ClinicSettings, clinic_course

TOOL = Path(__file__).resolve().parents[1] / "tools" / "dpp_ogtt_followup.py"
N_DAYS = 1096  # the shipped sweep's 3-year runs


@pytest.fixture(scope="module")
def tool():
    spec = importlib.util.spec_from_file_location("dpp_ogtt_followup", TOOL)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_ogtt_days_are_the_yearly_visits_and_their_confirmations(tool):
    # visits every ~6 months (clinic.visit_days), the yearly ones 365, 730, 1095; confirmation 42 days later,
    # year 3's clipped to the run's last day
    assert tool.ogtt_days(N_DAYS) == [365, 407, 730, 772, 1095]


@pytest.mark.parametrize("sample", range(12))
def test_hba1c_rule_is_the_clinics(tool, sample):
    rng = np.random.default_rng(sample)
    days = np.arange(N_DAYS)
    fasting = 100.0 + rng.uniform(0.0, 30.0) * days / N_DAYS + rng.normal(0.0, 1.0, N_DAYS)
    hba1c = 5.6 + rng.uniform(0.0, 1.2) * days / N_DAYS
    mine = tool.diagnose(sample, fasting, hba1c, {}, ("fasting", "HbA1c"), "HbA1c")
    theirs = clinic_course(sample, fasting, hba1c)
    for key in ("diagnosis_day", "normal_day"):
        assert mine[key] == theirs[key] or (math.isnan(mine[key]) and math.isnan(theirs[key]))


NOISELESS = ClinicSettings(fasting_glucose_cv=0.0, hba1c_cv=0.0, two_hour_glucose_cv=0.0)


def _course(fasting_mg_dl, hba1c_percent, two_hour_mg_dl, tool):
    return (
        np.full(N_DAYS, fasting_mg_dl),
        np.full(N_DAYS, hba1c_percent),
        {day: two_hour_mg_dl for day in tool.ogtt_days(N_DAYS)},
    )


def test_ogtt_rule_diagnoses_by_the_two_hour_glucose_at_the_first_yearly_visit(tool):
    fasting, hba1c, two_hour = _course(110.0, 7.0, 200.0, tool)
    found = tool.diagnose(1, fasting, hba1c, two_hour, ("fasting", "2-h"), "2-h", NOISELESS)
    assert (found["diagnosis_day"], found["trigger"], found["half_year"]) == (365.0, "2-h", False)
    # HbA1c 7 % does not count under the DPP's rule, 199 mg/dl is not diabetes
    fasting, hba1c, two_hour = _course(110.0, 7.0, 199.9, tool)
    assert math.isnan(tool.diagnose(1, fasting, hba1c, two_hour, ("fasting", "2-h"), "2-h", NOISELESS)["diagnosis_day"])


def test_ogtt_rule_needs_the_confirmation(tool):
    fasting, hba1c, two_hour = _course(110.0, 5.5, 150.0, tool)
    two_hour[730] = 250.0  # the visit high, its confirmation (772) not
    assert math.isnan(tool.diagnose(1, fasting, hba1c, two_hour, ("fasting", "2-h"), "2-h", NOISELESS)["diagnosis_day"])
    two_hour[772] = 210.0
    assert tool.diagnose(1, fasting, hba1c, two_hour, ("fasting", "2-h"), "2-h", NOISELESS)["diagnosis_day"] == 730.0


def test_ogtt_rule_returns_to_normal_by_fasting_and_two_hour_glucose(tool):
    fasting, hba1c, two_hour = _course(95.0, 6.0, 139.0, tool)  # HbA1c 6.0 % would keep the clinic's rule from it
    assert tool.diagnose(1, fasting, hba1c, two_hour, ("fasting", "2-h"), "2-h", NOISELESS)["normal_day"] == 365.0
    assert math.isnan(
        tool.diagnose(1, fasting, hba1c, two_hour, ("fasting", "HbA1c"), "HbA1c", NOISELESS)["normal_day"]
    )
