"""Bad scenario input gets a clear error naming the file, the field and the allowed values."""

import pytest

from glucosim.errors import ScenarioError
from glucosim.scenario.load import load_scenario, parse_scenario
from tests.conftest import SCENARIO_DIR, scenario_dict


def _error(data) -> str:
    with pytest.raises(ScenarioError) as info:
        parse_scenario(data, source="bad.toml")
    return str(info.value)


def test_wrong_field_name_lists_allowed_fields():
    data = scenario_dict(routine={"meals": [{"time_h": 7, "carb_g": 50}]})
    message = _error(data)
    assert "bad.toml" in message
    assert "routine.meals[0].carb_g: unknown field" in message
    assert "carbs_g" in message  # the allowed field is named


def test_negative_dose_names_field():
    message = _error(scenario_dict(routine={"meals": [{"time_h": 7, "carbs_g": -20}]}))
    assert "routine.meals[0].carbs_g" in message
    assert "greater than 0" in message


def test_unknown_preset_lists_presets():
    message = _error(scenario_dict(subject={"preset": "athlete"}))
    assert "subject.preset" in message and "'athlete'" in message
    assert "healthy" in message and "insulin_resistant_low_reserve" in message


def test_bad_absorption_lists_choices():
    message = _error(scenario_dict(routine={"meals": [{"time_h": 7, "carbs_g": 50, "absorption": "quick"}]}))
    assert "routine.meals[0].absorption" in message
    assert "'slow', 'medium' or 'fast'" in message


def test_parameter_override_out_of_range_names_range():
    message = _error(scenario_dict(subject={"preset": "healthy", "parameters": {"glucose_setpoint": 300}}))
    assert "glucose_setpoint" in message and "[90, 120]" in message


def test_two_durations_rejected():
    message = _error(scenario_dict(duration_years=1))
    assert "exactly one of duration_years, duration_days or duration_hours" in message


def test_changes_out_of_order_rejected():
    data = scenario_dict(duration_days=30, changes=[{"from_day": 20, "sleep_h": 6}, {"from_day": 10, "sleep_h": 5}])
    assert "time order" in _error(data)


def test_change_after_end_rejected():
    data = scenario_dict(duration_days=10, changes=[{"from_day": 20, "sleep_h": 6}])
    assert "after the end of the run" in _error(data)


def test_not_toml_names_file(tmp_path):
    path = tmp_path / "broken.toml"
    path.write_text("name = \n")
    with pytest.raises(ScenarioError, match="broken.toml: not valid TOML"):
        load_scenario(path)


def test_missing_file(tmp_path):
    with pytest.raises(ScenarioError, match="no such scenario file"):
        load_scenario(tmp_path / "nope.toml")


@pytest.mark.parametrize("path", sorted(SCENARIO_DIR.glob("*.toml")), ids=lambda p: p.name)
def test_shipped_scenarios_are_valid_and_commented(path):
    loaded = load_scenario(path)
    assert loaded.text.startswith("# Teaches:"), "each scenario opens with a comment saying what it teaches"
