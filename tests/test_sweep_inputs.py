"""Bad sweep files found by the bad-input hunt: each is refused at load, naming the file, the field and what is
allowed (before: a traceback, or a variable that silently did nothing)."""

import pytest

from glucosim.errors import SweepError
from glucosim.sweep import load_sweep
from tests._sweep_helpers import GRID_SWEEP, write_sweep
from tests.test_sweep import COHORT_SWEEP


def _error(tmp_path, text: str) -> str:
    path = write_sweep(tmp_path, text)
    with pytest.raises(SweepError) as info:
        load_sweep(path)
    assert str(path) in str(info.value)
    return str(info.value)


def test_a_ragged_correlation_matrix_is_refused_not_a_numpy_traceback(tmp_path):
    # was: ValueError: setting an array element with a sequence (inhomogeneous shape)
    text = COHORT_SWEEP.replace("correlation = [[1.0, -0.5], [-0.5, 1.0]]", "correlation = [[1.0], [-0.5, 1.0]]")
    assert "design.correlation: must be 2 x 2 (one row of 2 per variable), got rows of 1, 2" in _error(tmp_path, text)


@pytest.mark.parametrize("table", ["daily", "yearly"])
def test_an_output_column_listed_twice_is_refused(tmp_path, table):
    # was accepted, and the first chunk's write failed: ValueError: Duplicate column names found
    text = (
        GRID_SWEEP.split("[[arms]]")[0] + f'\n[outputs]\n{table} = ["fasting_glucose_mg_dl", "fasting_glucose_mg_dl"]\n'
    )
    assert f"outputs.{table}: 'fasting_glucose_mg_dl' is listed twice" in _error(tmp_path, text)


@pytest.mark.parametrize("field", ["subject.beta_cell_reserve", "subject.parameters.beta_function_max"])
def test_a_parameter_varied_twice_is_refused(tmp_path, field):
    # beta_function_max by name and subject.beta_cell_reserve as a field: the parameter won and the field did nothing
    text = GRID_SWEEP.split("[[arms]]")[0] + f'\n[[variables]]\nfield = "{field}"\nvalues = [1.5, 2.5]\n'
    message = _error(tmp_path, text)
    assert f"variables[2].field: '{field}' sets the parameter 'beta_function_max', which variables[1]" in message


def test_a_subject_field_varied_alone_is_accepted(tmp_path):
    text = GRID_SWEEP.split("[[arms]]")[0].replace(
        'parameter = "beta_function_max"\nunit = "1"', 'field = "subject.beta_cell_reserve"'
    )
    assert [variable.name for variable in load_sweep(write_sweep(tmp_path, text)).sweep.variables] == [
        "insulin_sensitivity_whole_body",
        "subject.beta_cell_reserve",
    ]


def test_two_subject_fields_of_one_parameter_are_refused(tmp_path):
    # subject.beta_cell_reserve and subject.parameters.beta_function_max both set beta_function_max: accepted until
    # 2026-12-03 (a review), and the second field won silently
    text = (
        GRID_SWEEP.split("[[arms]]")[0].replace(
            'parameter = "beta_function_max"\nunit = "1"', 'field = "subject.beta_cell_reserve"'
        )
        + '\n[[variables]]\nfield = "subject.parameters.beta_function_max"\nvalues = [1.5, 2.5]\n'
    )
    message = _error(tmp_path, text)
    assert (
        "variables[2].field: 'subject.parameters.beta_function_max' sets the parameter 'beta_function_max'" in message
    )
    assert "which variables[1] varies too" in message


# ------------------------------------------------------------------ parameters every run shares (design.parameters)
SHARED = "\n[design.parameters]\nglucose_sensing_offset = 10.0\n"


def _with_shared(shared: str = SHARED) -> str:
    head, arms = GRID_SWEEP.split("[[variables]]", 1)
    return head.rstrip("\n") + "\n" + shared + "\n[[variables]]" + arms


def test_a_shared_parameter_reaches_every_run(tmp_path):
    from glucosim.sweep.scenario_edit import run_scenario_data

    loaded = load_sweep(write_sweep(tmp_path, _with_shared()))
    assert loaded.sweep.design.parameters == {"glucose_sensing_offset": 10.0}
    values = {"insulin_sensitivity_whole_body": 0.25, "beta_function_max": 1.2}
    for arm in loaded.sweep.arms:
        parameters = run_scenario_data(loaded, arm, values)["subject"]["parameters"]
        assert parameters["glucose_sensing_offset"] == 10.0
        assert parameters["beta_function_max"] == 1.2  # the run's own variables beside it


def test_a_shared_parameter_is_part_of_the_sweeps_identity_and_none_is_not(tmp_path):
    from glucosim.sweep.load import identity_json

    plain = load_sweep(write_sweep(tmp_path / "plain"))
    shared = load_sweep(write_sweep(tmp_path / "shared", _with_shared()))
    assert identity_json(plain.sweep) != identity_json(shared.sweep)  # one's results cannot resume as the other's
    # no shared parameter is the default, left out: folders written before the field keep their hashes
    assert '"parameters"' not in identity_json(plain.sweep)
    empty = load_sweep(write_sweep(tmp_path / "empty", _with_shared("\n[design.parameters]\n")))
    assert identity_json(empty.sweep) == identity_json(plain.sweep)


@pytest.mark.parametrize(
    ("shared", "expected"),
    [
        ("no_such_parameter = 1.0", "design.parameters.no_such_parameter: "),
        ("glucose_sensing_offset = 100.0", "design.parameters.glucose_sensing_offset: 100 mg/dl is outside the"),
        ("beta_function_max = 2.0", "design.parameters.beta_function_max: variables[1] varies it too"),
    ],
)
def test_a_bad_shared_parameter_is_refused_naming_it(tmp_path, shared, expected):
    assert expected in _error(tmp_path, _with_shared(f"\n[design.parameters]\n{shared}\n"))


def test_a_shared_parameter_also_set_by_a_subject_field_variable_is_refused(tmp_path):
    text = _with_shared("\n[design.parameters]\nbeta_function_max = 2.0\n").replace(
        'parameter = "beta_function_max"\nunit = "1"', 'field = "subject.beta_cell_reserve"'
    )
    assert "design.parameters.beta_function_max: variables[1] varies it too (only one of them would act" in _error(
        tmp_path, text
    )


def test_a_named_cohort_brings_its_shared_parameters(tmp_path, monkeypatch):
    import glucosim.sweep.load as load_module

    cohorts = tmp_path / "cohorts"
    cohorts.mkdir()
    source = (load_module.COHORT_DIR / "prediabetic.toml").read_text()
    # the shipped cohort shares its patients' held set point and fitness
    shipped = "\n[parameters]\nsetpoint_adaptation_at_start = 1.0\nresting_intensity = 13.9\n"
    assert shipped in source
    shared = shipped + "glucose_sensing_offset = 10.0\n"
    (cohorts / "test_shared.toml").write_text(source.replace(shipped, shared, 1))
    (cohorts / "test_clash.toml").write_text(source.replace(shipped, shared, 1))
    monkeypatch.setattr(load_module, "COHORT_DIR", cohorts)
    text = COHORT_SWEEP_NAMED.replace("COHORT", "test_shared")
    loaded = load_sweep(write_sweep(tmp_path / "ok", text))
    assert loaded.sweep.design.parameters == {
        "setpoint_adaptation_at_start": 1.0,
        "resting_intensity": 13.9,
        "glucose_sensing_offset": 10.0,
    }
    assert loaded.base_data["subject"]["parameters"]["glucose_sensing_offset"] == 10.0
    assert loaded.base_data["subject"]["parameters"]["resting_intensity"] == 13.9
    clash = COHORT_SWEEP_NAMED.replace("COHORT", "test_clash").replace(
        'cohort = "test_clash"', 'cohort = "test_clash"\nparameters = { glucose_sensing_offset = 5.0 }'
    )
    assert "design.parameters.glucose_sensing_offset: the cohort 'test_clash' sets it already" in _error(
        tmp_path / "clash", clash
    )


COHORT_SWEEP_NAMED = """
name = "named cohort"
base_scenario = "base.toml"
seed = 3

[design]
kind = "cohort"
cohort = "COHORT"
samples = 4

[[arms]]
name = "control"
"""


def test_an_arm_change_on_a_base_change_day_overrides_it_as_one_change():
    # an arm's change on the day of one of the base's is the intervention: its fields win (as before), now folded
    # into one change, since a scenario refuses two changes of one day that set the same field (2026-12-05)
    from glucosim.sweep.scenario_edit import _fold_same_day

    base = {"from_year": 9, "label": "base", "carbs_scale": 1.2, "sleep_h": 7.0}
    arm = {"from_day": 3287, "label": "arm", "carbs_scale": 0.8, "meals": None}
    later = {"from_day": 4000, "carbs_scale": 1.0}
    assert _fold_same_day([base, arm, later]) == [
        {"from_year": 9, "label": "base; arm", "carbs_scale": 0.8, "sleep_h": 7.0},
        later,
    ]
