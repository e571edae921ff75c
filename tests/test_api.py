"""The public Python API: what-if overrides, scenario sources, immutability, lazy import."""

import dataclasses
import subprocess
import sys
import warnings

import numpy as np
import pytest

import glucosim
from glucosim.physiology.indices import Par
from tests.conftest import SCENARIO_DIR, scenario_dict

LOW_RESERVE = "03_insulin_resistance_low_reserve"


def test_import_is_light():
    code = "import glucosim, sys; print(sorted({'numba', 'pandas', 'matplotlib', 'scipy'} & set(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_every_public_name_resolves_with_a_docstring():
    for name in glucosim.__all__:
        value = getattr(glucosim, name)
        if callable(value) and not isinstance(value, type):
            assert value.__doc__, name
    assert "simulate" in dir(glucosim)
    with pytest.raises(AttributeError):
        glucosim.no_such_thing  # noqa: B018


def test_shipped_name_with_overrides_changes_parameters_and_shortens():
    with pytest.warns(UserWarning, match="dropped: clinic visit ogtt_75g at year 4"):
        loaded = glucosim.load_scenario(LOW_RESERVE, duration_years=2, insulin_sensitivity_whole_body=0.4)
    assert loaded.parameters[Par.insulin_sensitivity_whole_body] == 0.4
    assert loaded.scenario.n_days == 730
    # the visit at year 0 is kept, later ones dropped
    assert [visit.at_years for visit in loaded.scenario.clinic] == [(0.0,)]
    assert "insulin_sensitivity_whole_body=0.4" in loaded.scenario.name
    base = glucosim.load_scenario(SCENARIO_DIR / f"{LOW_RESERVE}.toml")
    assert base.parameters[Par.insulin_sensitivity_whole_body] != 0.4
    assert base.scenario.routine == loaded.scenario.routine


@pytest.mark.parametrize(
    ("overrides", "field", "allowed"),
    [
        ({"duration_days": 0}, "duration_days", "greater than 0"),
        ({"duration_years": "abc"}, "duration_years", "valid number"),
        ({"duration_years": 1e9}, "duration_years", "less than or equal to 60"),
    ],
)
def test_a_bad_duration_override_is_a_scenario_error_naming_the_field(overrides, field, allowed):
    """These were pydantic tracebacks: the shortened run's end was computed before the data were validated."""
    from glucosim.errors import ScenarioError

    with pytest.raises(ScenarioError) as info:
        glucosim.load_scenario(LOW_RESERVE, **overrides)
    message = str(info.value)
    assert f"{LOW_RESERVE}.toml" in message and f"{field}: " in message and allowed in message


def test_a_shortened_run_leaves_malformed_changes_and_visits_to_the_schema():
    """A from_year or visit year of the wrong type was a TypeError while dropping what falls after the end."""
    from glucosim.errors import ScenarioError

    data = scenario_dict(
        duration_years=5,
        changes=[{"from_year": "2", "sleep_h": 6.0}],
        clinic=[{"protocol": "ogtt_75g", "at_years": [0, "4", 4.5]}],
    )
    del data["duration_days"]
    with pytest.raises(ScenarioError) as info, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        glucosim.load_scenario(data, duration_years=1)
    message = str(info.value)
    assert "changes[0].from_year: " in message and "clinic[0].at_years[1]: " in message


@pytest.mark.parametrize(
    ("options", "field", "allowed"),
    [
        ({"rtol": -1.0}, "rtol", "allowed: 1e-12 to 0.01"),  # was a solver failure naming neither
        ({"rtol": float("nan")}, "rtol", "allowed: 1e-12 to 0.01"),
        ({"rtol": 0.05}, "rtol", "allowed: 1e-12 to 0.01"),  # was allowed, and failed with a non-finite state
        ({"until_day": -1}, "until_day", "allowed: whole days from 1"),  # ran one day silently
        ({"until_day": 2.5}, "until_day", "allowed: whole days from 1"),
        ({"state_days": (99,)}, "state_days", "allowed: whole days 0 to 4"),  # ignored silently
        ({"trajectory_days": (-3,)}, "trajectory_days", "allowed: whole days 0 to 4"),
        ({"trajectory_days": 5}, "trajectory_days", "allowed: e.g. [0, 365]"),  # was a TypeError
        ({"chunk_days": 0}, "chunk_days", "allowed: whole days from 1"),  # was a ValueError
        ({"chunk_days": -5}, "chunk_days", "allowed: whole days from 1"),  # was a KeyError
        ({"chunk_days": 1.5}, "chunk_days", "allowed: whole days from 1"),  # was a TypeError
        ({"chunk_days": "2"}, "chunk_days", "allowed: whole days from 1"),
    ],
)
def test_run_options_out_of_range_are_scenario_errors_naming_the_option(options, field, allowed):
    from glucosim.errors import ScenarioError

    with pytest.raises(ScenarioError) as info:
        glucosim.simulate(scenario_dict(duration_days=5), progress=False, **options)
    message = str(info.value)
    assert message.startswith(f"<dict>: {field}: ") and allowed in message


def test_until_day_past_the_end_runs_the_whole_scenario():
    assert len(glucosim.simulate(scenario_dict(duration_days=2), progress=False, until_day=10).daily) == 2


def test_override_kinds_resolve_to_their_fields():
    loaded = glucosim.load_scenario(
        scenario_dict(),
        beta_cell_reserve=3.0,  # subject field
        sleep_h=6.0,  # routine value
        liver_output_cortisol_gain=float(glucosim.load_parameter_table()["liver_output_cortisol_gain"].low),
        routine={"carbs_scale": 1.2},  # table, merged (meals kept)
        duration_days=3,
    )
    scenario = loaded.scenario
    assert scenario.subject.beta_cell_reserve == 3.0 and loaded.parameters[Par.beta_function_max] == 3.0
    assert scenario.routine.sleep_h == 6.0 and scenario.routine.carbs_scale == 1.2
    assert len(scenario.routine.meals) == 3 and scenario.n_days == 3
    assert "liver_output_cortisol_gain" in scenario.subject.parameters


def test_deprecated_alias_warns_and_maps():
    with pytest.warns(DeprecationWarning, match="insulin_sensitivity_whole_body"):
        loaded = glucosim.load_scenario(scenario_dict(), insulin_sensitivity=0.6)
    assert loaded.parameters[Par.insulin_sensitivity_whole_body] == 0.6
    with pytest.warns(DeprecationWarning):
        from_file_field = glucosim.load_scenario(scenario_dict(subject={"insulin_sensitivity": 0.6}))
    assert from_file_field.parameters[Par.insulin_sensitivity_whole_body] == 0.6


@pytest.mark.parametrize(
    "overrides",
    [
        {"body_weight": 60.0, "body_weight_kg": 90.0},  # the parameter silently won over the field
        {"beta_cell_reserve": 2.0, "beta_function_max": 3.0},
        {"insulin_sensitivity": 0.5, "insulin_sensitivity_whole_body": 0.6},  # a deprecated alias and its name
    ],
)
def test_one_parameter_set_under_two_names_is_refused(overrides):
    first, second = overrides
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        with pytest.raises(glucosim.ScenarioError, match=f"{first!r} and {second!r} both set the parameter"):
            glucosim.load_scenario(scenario_dict(), **overrides)


@pytest.mark.parametrize(
    ("field", "parameter"),
    [("insulin_sensitivity_whole_body", "insulin_sensitivity_whole_body"), ("beta_cell_reserve", "beta_function_max")],
)
def test_a_field_override_wins_over_the_scenarios_own_parameters_table(field, parameter):
    # the scenario's subject.parameters used to win over an override of the field that sets the same parameter
    data = scenario_dict(subject={"parameters": {parameter: 3.0}})
    loaded = glucosim.load_scenario(data, **{field: 2.0})
    assert loaded.parameters[getattr(Par, parameter)] == 2.0


def test_out_of_range_parameter_names_unit_and_range():
    row = glucosim.load_parameter_table()["glucose_distribution_volume"]
    with pytest.raises(glucosim.ScenarioError) as error:
        glucosim.load_scenario(scenario_dict(), glucose_distribution_volume=row.high * 2)
    message = str(error.value)
    assert "glucose_distribution_volume" in message and row.unit in message and f"{row.high:g}" in message


def test_unknown_override_and_unknown_name_suggest():
    with pytest.raises(glucosim.ScenarioError, match="did you mean.*beta_cell_reserve"):
        glucosim.load_scenario(scenario_dict(), beta_cell_reserv=3.0)
    with pytest.raises(glucosim.ScenarioError, match="did you mean 03_insulin_resistance_low_reserve"):
        glucosim.load_scenario("03_insulin_resistance_low_reserv")


def test_scenario_object_and_loaded_inputs():
    loaded = glucosim.load_scenario(scenario_dict())
    assert glucosim.load_scenario(loaded) is loaded
    again = glucosim.load_scenario(loaded.scenario, beta_cell_mass=0.8)
    assert again.parameters[Par.beta_mass_initial] == 0.8
    assert again.scenario.routine == loaded.scenario.routine


def test_replace_rederives_parameters_and_vector_is_not_shared():
    loaded = glucosim.load_scenario(scenario_dict())
    subject = loaded.scenario.subject.model_copy(update={"beta_cell_reserve": 2.5})
    changed = dataclasses.replace(loaded, scenario=loaded.scenario.model_copy(update={"subject": subject}))
    assert changed.parameters[Par.beta_function_max] == 2.5
    assert loaded.parameters[Par.beta_function_max] != 2.5
    vector = loaded.parameters
    vector[Par.beta_function_max] = 99.0
    assert loaded.parameters[Par.beta_function_max] != 99.0
    with pytest.raises(dataclasses.FrozenInstanceError):
        loaded.scenario = changed.scenario


def test_simulate_runs_a_what_if_and_passes_options():
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no deprecation or drop notice on this path
        result = glucosim.simulate(scenario_dict(), duration_days=2, beta_cell_reserve=3.0, progress=False)
    assert len(result.daily) == 2
    assert result.loaded.scenario.subject.beta_cell_reserve == 3.0


def test_readme_and_notebooks_use_only_the_public_api():
    import json
    import re

    from tests.conftest import REPO

    internal = re.compile(r"\b(?:from|import)\s+glucosim\.\w+|\bglucosim\.(?!__)(\w+)")
    sources = {"README.md": "\n".join(re.findall(r"```python\n(.*?)```", (REPO / "README.md").read_text(), re.S))}
    # every course notebook
    for path in sorted((REPO / "notebooks").glob("*.ipynb")):
        cells = json.loads(path.read_text())["cells"]
        sources[path.name] = "\n".join("".join(cell["source"]) for cell in cells if cell["cell_type"] == "code")
    assert len(sources) >= 9
    for name, code in sources.items():
        for match in internal.finditer(code):
            attribute = match.group(1)
            assert attribute is not None and attribute in glucosim.__all__, f"{name}: {match.group(0)}"


@pytest.mark.parametrize("path", sorted(SCENARIO_DIR.glob("*.toml")), ids=lambda path: path.stem)
@pytest.mark.filterwarnings("ignore:.*the scenario's changes set it again:UserWarning")  # scenario 05's sleep change
def test_scenario_text_of_a_variant_reproduces_it(path):
    from glucosim._toml import toml_reader
    from glucosim.scenario.load import parse_scenario

    variant = glucosim.load_scenario(path, sleep_h=6.5, beta_cell_mass=0.9)
    again = parse_scenario(toml_reader.loads(variant.text), source="<copy>")
    assert again.scenario == variant.scenario
    assert (again.parameters == variant.parameters).all()


def _project_with_a_protocol_file_beside_its_scenario(tmp_path):
    """A folder holding visit.toml, a 2-day scenario whose clinic visit names the protocol file my_fast.toml beside
    it (a copy of the shipped fasting protocol)."""
    import shutil

    from glucosim._resources import package_path

    project = tmp_path / "project"
    project.mkdir()
    shutil.copy(package_path("protocols", "fasting.toml"), project / "my_fast.toml")
    (project / "visit.toml").write_text(
        'name = "visit"\nduration_days = 2\n[subject]\npreset = "healthy"\n'
        '[[clinic]]\nprotocol = "my_fast.toml"\nat_years = [0]\n'
    )
    return project


def test_a_saved_result_loads_from_any_folder(tmp_path, monkeypatch):
    # a scenario run by a relative path names a protocol file beside it: loading the saved result from another folder
    # looked for that protocol in the folder of the load ("no such protocol")
    project = _project_with_a_protocol_file_beside_its_scenario(tmp_path)
    monkeypatch.chdir(project)
    result = glucosim.simulate("visit.toml", progress=False)
    result.save(project / "results", figures=False)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    loaded = glucosim.SimulationResult.load(project / "results")
    assert loaded.loaded.scenario.clinic[0].protocol == "my_fast.toml"
    # recomputed from the stored midnight, the kept day agrees to the integrator's error (rtol 1e-6)
    np.testing.assert_allclose(loaded.trace(1)["glucose_mg_dl"], result.trace(1)["glucose_mg_dl"], rtol=1e-4)


def test_loading_a_result_from_a_file_or_a_missing_folder_says_which(tmp_path):
    # both were "not a complete results folder (missing summary.json, daily.csv, ...)"
    summary = tmp_path / "summary.json"
    summary.write_text("{}\n")
    with pytest.raises(glucosim.GlucosimError, match="summary.json: is a file; give the results folder that holds it"):
        glucosim.SimulationResult.load(summary)
    with pytest.raises(glucosim.GlucosimError, match="typo: no such results folder"):
        glucosim.SimulationResult.load(tmp_path / "typo")


def test_a_changed_copy_of_a_scenario_is_saved_as_it_ran(tmp_path):
    # dataclasses.replace(loaded, scenario=...) (the LoadedScenario docstring's way to change one) kept the file's
    # text: saved with the results, it reloaded as the original scenario; one without text was saved empty
    from glucosim.scenario.load import parse_scenario
    from glucosim.simulation.run import simulate

    loaded = glucosim.load_scenario("01_healthy_baseline", duration_days=2)
    changed_subject = loaded.scenario.subject.model_copy(update={"beta_cell_reserve": 2.5})
    changed = dataclasses.replace(loaded, scenario=loaded.scenario.model_copy(update={"subject": changed_subject}))
    assert loaded.text_is_scenario and not changed.text_is_scenario
    assert changed.sha256 != loaded.sha256
    glucosim.simulate(changed, progress=False).save(tmp_path / "changed", figures=False)
    assert glucosim.SimulationResult.load(tmp_path / "changed").loaded.scenario == changed.scenario
    without_text = parse_scenario(scenario_dict(duration_days=2), source="<dict>")
    simulate(without_text, progress=False).save(tmp_path / "no_text", figures=False)
    assert glucosim.SimulationResult.load(tmp_path / "no_text").loaded.scenario == without_text.scenario


def test_a_loaded_scenario_finds_its_protocol_file_after_the_working_folder_changes(tmp_path, monkeypatch):
    # a notebook loads a scenario naming a protocol file beside it, then changes folder before simulating: the clinic
    # looked for the protocol in the new working folder ("no such protocol")
    from glucosim.clinic.protocol import load_protocol

    project = _project_with_a_protocol_file_beside_its_scenario(tmp_path)
    monkeypatch.chdir(project)
    loaded = glucosim.load_scenario("visit.toml")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    result = glucosim.simulate(loaded, progress=False)
    assert [(visit.day, visit.protocol.protocol.name) for visit in result.clinic] == [
        (0, load_protocol(project / "my_fast.toml").protocol.name)
    ]


def test_every_error_class_is_public_and_a_glucosim_error():
    import glucosim.errors

    classes = [
        value
        for value in vars(glucosim.errors).values()
        if isinstance(value, type) and issubclass(value, Exception) and value.__module__ == "glucosim.errors"
    ]
    assert len(classes) >= 10
    for error in classes:
        assert getattr(glucosim, error.__name__) is error, error.__name__
        assert issubclass(error, glucosim.GlucosimError)


def test_scenario_data_merges_tables_replaces_lists_and_durations_and_shares_nothing():
    """One merge rule for load_scenario's overrides and the notebooks' scenario_variant (scenario.load)."""
    from glucosim.scenario.load import merge_scenario_data

    base = {
        "name": "base",
        "duration_years": 2,
        "subject": {"preset": "healthy", "parameters": {"body_weight": 80.0}},
        "routine": {"meals": [{"time_h": 8, "carbs_g": 60}], "sleep_h": 8.0},
    }
    meals = [{"time_h": 12, "carbs_g": 90}]
    merged = merge_scenario_data(base, {"duration_days": 30, "subject": {"parameters": {"glucose_setpoint": 100.0}}})
    assert "duration_years" not in merged and merged["duration_days"] == 30
    assert merged["subject"] == {"preset": "healthy", "parameters": {"body_weight": 80.0, "glucose_setpoint": 100.0}}
    assert base["subject"]["parameters"] == {"body_weight": 80.0}  # the base is left as it was
    replaced = merge_scenario_data(base, {"routine": {"meals": meals}})
    assert replaced["routine"] == {"meals": meals, "sleep_h": 8.0} and replaced["duration_years"] == 2
    meals[0]["carbs_g"] = 10  # the caller's list is not shared with the result
    assert replaced["routine"]["meals"][0]["carbs_g"] == 90


def test_an_override_that_a_change_sets_again_is_said():
    # --set sleep_h=9 on scenario 05 ran 18 of 20 years at the change's 5.5 h with no word (bad-input hunt)
    import warnings

    import glucosim

    with pytest.warns(UserWarning, match=r"sleep_h \(change 'sleep 5.5 h' from year 2\)"):
        glucosim.load_scenario("05_compensated_with_short_sleep", sleep_h=9.0)
    with pytest.warns(UserWarning, match=r"sleep_h \(change"):
        glucosim.load_scenario("05_compensated_with_short_sleep", routine={"sleep_h": 9.0})
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        glucosim.load_scenario("05_compensated_with_short_sleep", sleep_h=9.0, changes=[])  # nothing sets it again
    with warnings.catch_warnings(record=True) as said:
        warnings.simplefilter("always")
        glucosim.load_scenario("05_compensated_with_short_sleep", sleep_h=9.0, duration_years=1)
    assert [str(w.message).split(": ", 1)[1] for w in said] == [
        "the run now ends after day 364; dropped: change 'sleep 5.5 h' from day 730"  # and nothing sets it again
    ]


def test_run_protocol_refuses_what_is_not_a_protocol_or_a_state_and_takes_a_scenario_name():
    # None and state="x" were a TypeError and numpy's ValueError from inside the run; a shipped scenario's name
    # was taken for an unknown preset, though the docstring and the CLI take it (bad-input hunt, 2026-12-05)
    import glucosim
    from glucosim.errors import ClinicError, ScenarioError

    shipped = r"allowed: a shipped name \(clamp_20mU, clamp_40mU"
    with pytest.raises(ClinicError, match=r"protocol: None is not a protocol; " + shipped):
        glucosim.run_protocol(None, "healthy")
    with pytest.raises(ClinicError, match=r"state: 'x' is not a state"):
        glucosim.run_protocol("fasting", "healthy", state="x")
    by_name = glucosim.run_protocol("fasting", "32_mixed_meal_day", day=1)
    by_file = glucosim.run_protocol("fasting", str(SCENARIO_DIR / "32_mixed_meal_day.toml"), day=1)
    assert by_name.indices == by_file.indices
    with pytest.raises(ScenarioError, match="a preset is one of healthy"):
        glucosim.run_protocol("fasting", "32_mixed_meal_dya")
