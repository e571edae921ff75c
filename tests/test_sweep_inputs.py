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
