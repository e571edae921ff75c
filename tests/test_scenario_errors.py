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


def test_two_changes_on_one_day_that_set_one_field_are_refused():
    # the later change won on its day, so the earlier one's value never applied, with no word (bad-input hunt)
    same = [{"from_day": 10, "carbs_scale": 0.5}, {"from_year": 10 / 365.25, "carbs_scale": 2.0, "sleep_h": 6}]
    message = _error(scenario_dict(duration_days=30, changes=same))
    assert "changes[0] and changes[1] both start on day 10 and both set carbs_scale" in message
    apart = [{"from_day": 10, "carbs_scale": 0.5}, {"from_day": 10, "sleep_h": 6}]
    parse_scenario(scenario_dict(duration_days=30, changes=apart), source="<test>")  # different fields: both apply
    # a field given as None sets nothing (a model_dump() without exclude_none carries them)
    dumped = [
        {"from_day": 10, "carbs_scale": 0.5, "sleep_h": None},
        {"from_day": 10, "sleep_h": 6, "carbs_scale": None},
    ]
    parse_scenario(scenario_dict(duration_days=30, changes=dumped), source="<test>")
    # every pair of one day is compared, not only neighbours
    three = [{"from_day": 10, "sleep_h": 5}, {"from_day": 10, "carbs_scale": 0.5}, {"from_day": 10, "sleep_h": 6}]
    assert "changes[0] and changes[2] both start on day 10 and both set sleep_h" in _error(
        scenario_dict(duration_days=30, changes=three)
    )


def test_food_besides_meals_where_no_meal_is_eaten_is_refused():
    # 6000 kcal/day on a routine without meals ran as a fast (it is eaten only on days with meals; bad-input hunt)
    message = _error(scenario_dict(routine={"meals": [], "other_food_kcal_per_day": 6000.0}))
    assert "routine.other_food_kcal_per_day: 6000 kcal/day is eaten only on days with meals" in message
    fast = {"from_day": 5, "meals": [], "other_food_kcal_per_day": 300.0}
    assert "changes[0].other_food_kcal_per_day: 300 kcal/day" in _error(scenario_dict(duration_days=30, changes=[fast]))
    # a fast that keeps the starting routine's intake for when meals return, or 0 given, is accepted
    kept = scenario_dict(duration_days=30, changes=[{"from_day": 5, "meals": []}])
    kept["routine"] = {**kept.get("routine", {}), "other_food_kcal_per_day": 500.0}
    parse_scenario(kept, source="<test>")
    parse_scenario(scenario_dict(routine={"meals": [], "other_food_kcal_per_day": 0.0}), source="<test>")
    # a fasting start whose meals a later change brings eats the routine's intake from then on
    later = scenario_dict(duration_days=30, changes=[{"from_day": 3, "meals": [{"time_h": 8.0, "carbs_g": 60.0}]}])
    later["routine"] = {"meals": [], "other_food_kcal_per_day": 500.0}
    parse_scenario(later, source="<test>")
    # but not when the next change gives another value before any meal
    later["changes"] = [{"from_day": 2, "other_food_kcal_per_day": 0.0}, *later["changes"]]
    assert "routine.other_food_kcal_per_day: 500 kcal/day" in _error(later)


def test_changes_out_of_order_name_both_changes():
    data = scenario_dict(duration_days=30, changes=[{"from_day": 20, "sleep_h": 6}, {"from_day": 10, "sleep_h": 5}])
    assert "changes[1] starts on day 10, before changes[0] (day 20)" in _error(data)


def test_a_visit_at_the_end_year_names_the_visit_and_the_latest_allowed_year():
    """Year 3 of a 3-year run is day 1096 (3 x 365.25 rounded), one past the run's last day, 1095."""
    from glucosim.scenario.schema import Scenario

    data = scenario_dict(duration_years=3, clinic=[{"protocol": "ogtt_75g", "at_years": [0, 1, 3]}])
    del data["duration_days"]
    message = _error(data)
    assert "clinic[0].at_years: year 3 is day 1096, after the end of the run (last day 1095)" in message
    assert "allowed: years 0 to 2.999" in message
    assert Scenario.visit_day(2.999) == 1095 and Scenario.visit_day(3.0) == 1096  # the bound is the right one


def test_parameters_in_range_that_cannot_run_together_are_refused_at_load():
    """Liver fat export at or below the capacity used has no steady state: each value in its range, the pair once
    passed glucosim check and failed at the run's start naming neither the file nor the field."""
    subject = {"preset": "healthy", "parameters": {"liver_fat_export_capacity": 0.6, "liver_fat_capacity_used": 0.7}}
    message = _error(scenario_dict(subject=subject))
    assert ": subject.parameters: liver_fat_export_capacity (0.6) must exceed liver_fat_capacity_used (0.7)" in message
    assert "allowed: liver_fat_export_capacity > liver_fat_capacity_used" in message


@pytest.mark.parametrize(
    ("parameters", "expected"),
    [
        (
            {"gastric_emptying_min": 0.03, "gastric_emptying_max": 0.025},
            "gastric_emptying_min (0.03/min) must not exceed gastric_emptying_max (0.025/min)",
        ),
        (
            {"liver_glycogen_reference": 1200.0, "liver_glycogen_capacity": 1000.0},
            "liver_glycogen_reference (1200 mg/kg) must be below liver_glycogen_capacity (1000 mg/kg)",
        ),
        ({"sex_female": 0.5}, "sex_female is 0.5; allowed: 0 (a man) or 1 (a woman)"),
    ],
    ids=["gastric emptying", "liver glycogen", "sex"],
)
def test_more_parameters_that_cannot_mean_a_subject_together_are_refused(parameters, expected):
    """Found by a bad-input hunt (2026-12-05): each value within its range, the model cannot mean them together (a
    minimum emptying rate above the maximum, a fasted glycogen store above the largest, half a woman), and each ran
    as plausible."""
    message = _error(scenario_dict(subject={"preset": "healthy", "parameters": parameters}))
    assert f"bad.toml: subject.parameters: {expected}" in message
    for value in (0.0, 1.0):  # the two allowed values still load
        parse_scenario(scenario_dict(subject={"preset": "healthy", "parameters": {"sex_female": value}}), "ok.toml")
    equal = {"gastric_emptying_min": 0.025, "gastric_emptying_max": 0.025}  # a constant rate: allowed
    parse_scenario(scenario_dict(subject={"preset": "healthy", "parameters": equal}), "ok.toml")


def test_a_copy_made_with_replace_is_checked_like_a_loaded_file():
    """dataclasses.replace(loaded, scenario=...) (LoadedScenario's documented way to copy) skipped the meal-energy
    and combined-sensitivity checks, which only parse_scenario ran (found in review)."""
    import dataclasses

    from glucosim.scenario.schema import Scenario

    loaded = parse_scenario(scenario_dict(), "ok.toml")
    feast = Scenario.model_validate(scenario_dict(routine={"meals": _meals(400.0, 300.0, 300.0)}))
    with pytest.raises(ScenarioError, match="ok.toml: routine.meals: the meals hold 16500 kcal a day"):
        dataclasses.replace(loaded, scenario=feast)


def _meals(carbs_g: float, fat_g: float, protein_g: float, n: int = 3) -> list[dict]:
    return [{"time_h": 7.0 + 6.0 * i, "carbs_g": carbs_g, "fat_g": fat_g, "protein_g": protein_g} for i in range(n)]


def test_meals_the_stomach_cannot_empty_in_a_day_are_refused():
    """Three meals of 400 g carbohydrate, 300 g fat and 300 g protein (16,500 kcal a day, each field within its range)
    held ~34 kg of food in the stomach after 14 days and reported a plausible run: the stomach empties at most
    gastric_energy_emptying_max (5 kcal/min, 7,200 kcal a day), so the rest never left it."""
    message = _error(scenario_dict(routine={"meals": _meals(400.0, 300.0, 300.0)}))
    assert "bad.toml: routine.meals: the meals hold 16500 kcal a day" in message
    assert "gastric_energy_emptying_max 5 kcal/min x 1440 min = 7200 kcal" in message
    assert "allowed: meals of less than 7200 kcal a day" in message and "range [2, 10] kcal/min" in message
    # the limit is the subject's: the same 3,600 kcal a day loads at the default emptying and not at the slowest
    feast = {"meals": _meals(300.0, 0.0, 0.0)}
    parse_scenario(scenario_dict(routine=feast), "ok.toml")
    slow = {"preset": "healthy", "parameters": {"gastric_energy_emptying_max": 2.0}}
    assert "= 2880 kcal" in _error(scenario_dict(subject=slow, routine=feast))
    # and a change that brings such meals is named
    change = {"from_day": 1, "meals": _meals(400.0, 300.0, 300.0)}
    assert "bad.toml: changes[0].meals: the meals hold 16500 kcal a day" in _error(
        scenario_dict(duration_days=3, changes=[change])
    )
    # a change that only scales the carbohydrate is named by its carbs_scale (7,050 kcal a day, then 7,650)
    scaled = scenario_dict(duration_days=3, routine={"meals": _meals(250.0, 150.0, 0.0)}, changes=[])
    parse_scenario(scaled, "ok.toml")
    scaled["changes"] = [{"from_day": 1, "carbs_scale": 1.2}]
    assert "bad.toml: changes[0].carbs_scale: the meals hold 7650 kcal a day" in _error(scaled)


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


@pytest.mark.parametrize(
    ("data", "field"),
    [
        (scenario_dict(routine={"sleep_h": 0.0}), "routine.sleep_h"),
        (scenario_dict(duration_days=5, changes=[{"from_day": 2, "sleep_h": 3.5}]), "changes[0].sleep_h"),
    ],
)
def test_sleep_shorter_than_the_sleep_loss_sources_is_refused(data, field):
    """sleep_h = 0 every night was accepted, and gave a compensated subject diabetes within two years (fasting
    glucose 263 mg/dl) in a run that reported success; the mechanism's sources restricted sleep to 4 h."""
    message = _error(data)
    assert "bad.toml" in message and field in message and "greater than or equal to 4" in message


def test_four_hours_of_sleep_is_accepted():
    assert parse_scenario(scenario_dict(routine={"sleep_h": 4.0})).scenario.routine.sleep_h == 4.0


@pytest.mark.parametrize(
    ("meals", "expected"),
    [
        # three 400-g meals a minute apart: each within the per-meal limit, together a 1,200-g meal
        ([{"time_h": 8 + k / 60, "carbs_g": 400} for k in range(3)], "hold 1200 g carbohydrate"),
        # the clock wraps at midnight
        (
            [{"time_h": 23.5, "carbs_g": 300}, {"time_h": 0.25, "carbs_g": 200}],
            "at 23.5 h to 0.25 h together hold 500 g",
        ),
    ],
)
def test_meals_stacked_within_an_hour_count_as_one_meal(meals, expected):
    message = _error(scenario_dict(routine={"meals": meals}))
    assert "bad.toml" in message and "routine.meals" in message and expected in message
    assert "at most 400 g within 1 h" in message


def test_stacked_meals_of_a_change_and_after_carbs_scale_are_refused_too():
    meals = [{"time_h": 8.0, "carbs_g": 150}, {"time_h": 8.5, "carbs_g": 150}]
    parse_scenario(scenario_dict(routine={"meals": meals}))  # 300 g within the hour is allowed
    message = _error(
        scenario_dict(duration_days=5, changes=[{"from_day": 2, "carbs_scale": 1.5}]) | {"routine": {"meals": meals}}
    )
    assert "changes[0].meals" in message and "450 g" in message and "carbs_scale 1.5" in message


def test_meals_an_hour_or_more_apart_are_separate_meals():
    meals = [{"time_h": 8.0, "carbs_g": 300}, {"time_h": 9.0, "carbs_g": 300}]
    assert len(parse_scenario(scenario_dict(routine={"meals": meals})).scenario.routine.meals) == 2


@pytest.mark.parametrize(
    ("data", "where"),
    [
        # fat rides on the meal's carbohydrate: 5e-324 g made the ratio infinite and the solver fail, naming no field
        (scenario_dict(routine={"meals": [{"time_h": 8, "carbs_g": 5e-324, "fat_g": 300}]}), "routine.meals"),
        (scenario_dict(routine={"meals": [{"time_h": 8, "carbs_g": 50}], "carbs_scale": 1e-300}), "routine.meals"),
    ],
)
def test_a_meal_without_carbohydrate_to_carry_its_fat_is_refused(data, where):
    message = _error(data)
    assert "bad.toml" in message and where in message and "at least 1 g per meal" in message


def test_a_clinic_year_beyond_any_run_is_refused_by_its_range():
    # 1e300 was refused with a 300-digit day number in the message
    message = _error(scenario_dict(duration_days=5, clinic=[{"protocol": "ogtt_75g", "at_years": [1e300]}]))
    assert "clinic[0].at_years[0]: Input should be less than or equal to 60 (got 1e+300)" in message


@pytest.mark.parametrize(
    ("clinic", "where"),
    [
        ([{"protocol": "ogtt_75g", "at_years": [0, 0]}], "clinic[0].at_years: year 0 is day 0, on which clinic[0]"),
        (
            [{"protocol": "ogtt_75g", "at_years": [0.001]}, {"protocol": "ogtt_75g", "at_years": [0]}],
            "clinic[1].at_years: year 0 is day 0, on which clinic[0] already runs 'ogtt_75g'",
        ),
    ],
)
def test_the_same_test_twice_on_one_morning_is_refused(clinic, where):
    # both ran from the same morning state and wrote identical rows twice
    assert where in _error(scenario_dict(duration_days=5, clinic=clinic))


def test_different_tests_on_one_morning_are_accepted():
    clinic = [{"protocol": "ogtt_75g", "at_years": [0]}, {"protocol": "clamp_40mU", "at_years": [0]}]
    assert len(parse_scenario(scenario_dict(duration_days=5, clinic=clinic)).scenario.clinic) == 2


def test_a_folder_given_as_a_scenario_or_protocol_is_named_a_folder(tmp_path):
    # was "no such scenario file, and not a shipped scenario name": the folder is there
    import glucosim
    from glucosim.scenario.protocol import load_protocol

    folder = tmp_path / "my_scenarios"
    folder.mkdir()
    for load in (glucosim.load_scenario, load_scenario):
        with pytest.raises(ScenarioError, match=r"my_scenarios: is a folder, not a scenario file; give a scenario"):
            load(folder)
    with pytest.raises(ScenarioError, match=r"my_scenarios: is a folder, not a protocol file; give a protocol"):
        load_protocol(folder)


def test_a_byte_order_mark_is_named_with_the_fix(tmp_path):
    # was "not valid TOML: Invalid statement (at line 1, column 1)" for a file that looks right in any editor
    import glucosim

    path = tmp_path / "notepad.toml"
    path.write_bytes(b"\xef\xbb\xbf" + (SCENARIO_DIR / "01_healthy_baseline.toml").read_bytes())
    for load in (glucosim.load_scenario, load_scenario):
        with pytest.raises(ScenarioError, match=r"notepad.toml: starts with a UTF-8 byte-order mark \(BOM\)"):
            load(path)


def test_gips_glucose_gate_cannot_close_to_a_point():
    """The gate's two levels have ranges that do not meet (a gate with equal ends divided by zero: a NaN factor at
    that glucose); an out-of-range level is refused by name with its allowed values."""
    subject = {"preset": "healthy", "parameters": {"gip_glucose_threshold": 110.0, "gip_glucose_full": 110.0}}
    message = _error(scenario_dict(subject=subject))
    assert "gip_glucose_threshold" in message and "105" in message


@pytest.mark.parametrize(
    ("intensity", "longest_min"),
    [(69.9, 1440.0), (70.0, 241.0), (74.0, 204.0), (90.0, 30.25), (95.0, (30.25 * 11.3) ** 0.5), (100.0, 11.3)],
)
def test_a_session_too_long_for_its_intensity_is_refused(intensity, longest_min):
    """6 h a day at 100 % VO2max ran 14 days as plausible (a bad-input hunt, 2026-12-05). From 70 % up, a session
    may last no longer than the upper tail of measured times to exhaustion (schema.EXHAUSTION_LIMITS_MIN)."""
    from glucosim.scenario.schema import longest_session_min

    assert longest_session_min(intensity) == pytest.approx(longest_min)
    if longest_min >= 360.0:  # the session field's own limit
        return
    allowed = {"start_h": 10.0, "duration_min": longest_min, "intensity_pct_vo2max": intensity}
    parse_scenario(scenario_dict(routine={"exercise": [allowed]}), "ok.toml")
    too_long = {**allowed, "duration_min": longest_min + 0.5}
    message = _error(scenario_dict(routine={"exercise": [too_long]}))
    assert "routine.exercise[0]: Value error, a session of " in message  # its minutes as the day's grid holds them
    assert f"min at {intensity:g} % VO2max cannot be held" in message
    assert f"allowed: at most {longest_min:.4g} min at {intensity:g} %" in message


def test_sessions_that_together_exceed_a_days_capacity_are_refused():
    """Each session within its limit, back to back: 60 sessions of 6 min at 100 % VO2max (6 h) passed one by one
    (found in review). A weekday's sessions may add up to two exhausting efforts (DAILY_EXHAUSTING_EFFORTS)."""
    sessions = [{"start_h": 6.0 + 0.25 * i, "duration_min": 6.0, "intensity_pct_vo2max": 100.0} for i in range(60)]
    message = _error(scenario_dict(routine={"exercise": sessions}))
    assert "routine: Value error, the sessions of weekday 0 add up to 31.9 exhausting efforts" in message
    assert "allowed: at most 2 a day" in message
    change = {"from_day": 1, "exercise": sessions}
    assert "changes[0]: Value error, the sessions of weekday 0 add up to 31.9" in _error(
        scenario_dict(duration_days=3, changes=[change])
    )
    # two efforts are allowed: 2 h at 70 % and 30 min at 90 % (0.50 + 0.99), on different weekdays as much as wanted
    two = [
        {"start_h": 8.0, "duration_min": 120.0, "intensity_pct_vo2max": 70.0},
        {"start_h": 17.0, "duration_min": 30.0, "intensity_pct_vo2max": 90.0},
    ]
    parse_scenario(scenario_dict(routine={"exercise": two}), "ok.toml")
    three = [*two, {"start_h": 20.0, "duration_min": 11.0, "intensity_pct_vo2max": 100.0}]
    assert "add up to 2.46 exhausting efforts" in _error(scenario_dict(routine={"exercise": three}))
    apart = [{**session, "weekdays": [0]} for session in two] + [{**three[2], "weekdays": [1]}]
    parse_scenario(scenario_dict(routine={"exercise": apart}), "ok.toml")
