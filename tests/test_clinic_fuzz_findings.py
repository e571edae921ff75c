"""Clinic crashes found by a fuzz of accepted inputs (/work/fuzz/report.md, F2-F4): each input now runs, and an
index the test cannot define is NaN (``null`` in clinic.json) instead of a traceback."""

import pytest

import glucosim
from glucosim.clinic.runner import run_protocol
from glucosim.scenario.load import parse_scenario
from tests.conftest import scenario_dict


def _loaded(**overrides):
    return parse_scenario(scenario_dict(**overrides), source="<test>")


def test_meal_at_midnight_with_a_clinic_visit_runs():
    """F2: a first meal at 00:00 puts the morning test at minute 0, so the overnight fast before it has zero length;
    it was integrated anyway and the solver refused the empty segment (ValueError) on every clinic path."""
    meals = [{"time_h": 0.0, "carbs_g": 50}, {"time_h": 12.0, "carbs_g": 80}]
    result = glucosim.simulate(
        _loaded(routine={"meals": meals}, clinic=[{"protocol": "ogtt_75g", "at_years": [0.0]}]), progress=False
    )
    (visit,) = result.summary["clinic"]
    assert visit["indices"]["two_hour_glucose_mg_dl"] > 0.0
    assert result.summary["plausibility"]["plausible"]
    # the test starts straight from the midnight state: as with a first meal 1/1024 h (~0.06 min) later
    at_midnight = run_protocol("fasting", _loaded(routine={"meals": meals})).indices
    just_after = run_protocol("fasting", _loaded(routine={"meals": [{**meals[0], "time_h": 1 / 1024}, meals[1]]}))
    assert at_midnight["fasting_glucose_mg_dl"] == pytest.approx(just_after.indices["fasting_glucose_mg_dl"], rel=1e-4)
    assert at_midnight["fasting_insulin_uU_ml"] == pytest.approx(just_after.indices["fasting_insulin_uU_ml"], rel=1e-3)
