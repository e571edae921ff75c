"""Bad input to the public API, protocol files and result access, refused with errors that say what to give
(the bad-input hunt of 2026-12-07)."""

import pytest

from glucosim.errors import GlucosimError

# ------------------------------------------------------------------ protocol fields that do nothing where given
INFUSION_WITH_A_DURATION = """name = "a 10-min infusion?"
kind = "fasting"
duration_min = 60
sample_every_min = 5

[[actions]]
at_min = 0
{action}
"""


@pytest.mark.parametrize(
    ("action", "expected"),
    [
        # meant as a 10-min infusion: the rate held to the end of the test, the duration ignored
        ("iv_glucose_mg_kg_min = 8\nbolus_duration_min = 10", "bolus_duration_min applies only to an action with iv_"),
        ("oral_glucose_g = 75\nbolus_duration_min = 5", "bolus_duration_min applies only to an action with iv_"),
        # glucose by vein at a 'slow' absorption: the speed was ignored
        ('iv_glucose_g_per_kg = 0.3\nabsorption = "slow"', "absorption applies only to an action with oral_glucose_g"),
        (
            "insulin_infusion_mU_m2_min = 40\nabsorption = 2.0",
            "absorption applies only to an action with oral_glucose_g",
        ),
    ],
)
def test_a_protocol_field_for_another_kind_of_action_is_refused(tmp_path, action, expected):
    from glucosim.clinic.protocol import load_protocol

    path = tmp_path / "p.toml"
    path.write_text(INFUSION_WITH_A_DURATION.format(action=action))
    with pytest.raises(GlucosimError) as error:
        load_protocol(path)
    message = str(error.value)
    assert str(path) in message and "actions[0]" in message and expected in message and "allowed:" in message
    # the same fields with their own kind of action load
    for own in ("iv_glucose_g_per_kg = 0.3\nbolus_duration_min = 2", 'oral_glucose_g = 75\nabsorption = "slow"'):
        path.write_text(INFUSION_WITH_A_DURATION.format(action=own))
        load_protocol(path)


# ------------------------------------------------------------------ glucosim.cgm_metrics of what is not readings
def test_cgm_metrics_of_a_whole_trace_or_of_no_glucose_is_refused():
    import numpy as np
    import pandas as pd

    import glucosim
    from glucosim.errors import ClinicError

    minutes = np.arange(0.0, 1440.0, 5.0)
    day = pd.DataFrame({"time_min": minutes, "clock_h": minutes / 60.0, "glucose_mg_dl": 105.0, "insulin_uU_ml": 8.0})
    # the whole trace, a natural slip beside SimulationResult.cgm_metrics: its time, clock and insulin columns were
    # flattened in with the glucose and gave a mean glucose of 211 mg/dl for a day at 105, without a word
    with pytest.raises(ClinicError, match=r"one-dimensional glucose readings, got shape \(288, 4\).*'glucose_mg_dl'"):
        glucosim.cgm_metrics(day)
    with pytest.raises(ClinicError, match="one-dimensional"):
        glucosim.cgm_metrics(None)  # all NaN, as if a day without readings
    with pytest.raises(ClinicError, match="must be numbers"):
        glucosim.cgm_metrics(["abc"])  # numpy's ValueError traceback
    # a reading below 0 (a difference from baseline): [-100, 100] was a ZeroDivisionError
    with pytest.raises(ClinicError, match="a glucose reading of -100 mg/dl; allowed: readings from 0"):
        glucosim.cgm_metrics([-100.0, 100.0])
    assert glucosim.cgm_metrics(day["glucose_mg_dl"])["mean_glucose_mg_dl"] == pytest.approx(105.0)
    assert np.isnan(glucosim.cgm_metrics([0.0, 0.0])["cv_percent"])  # no CV of a mean of 0


# ------------------------------------------------------------------ SimulationResult.write_traces
@pytest.fixture(scope="module")
def two_days():
    import glucosim
    from tests.conftest import scenario_dict

    return glucosim.simulate(scenario_dict(duration_days=2), progress=False)


def test_write_traces_into_a_saved_run_is_refused_and_the_run_still_loads(tmp_path, two_days):
    # a saved run's cgm_metrics.csv is checksummed in its COMPLETE.json: write_traces(run, [1]) replaced the metrics
    # of the run's own trace days with day 1's, and the run then failed to load ("changed since the run finished")
    from glucosim.errors import OutputError
    from glucosim.io.results import write_result
    from glucosim.simulation.result import SimulationResult

    run = tmp_path / "run"
    write_result(two_days, run, figures=False, trace_days=[0])
    metrics = (run / "cgm_metrics.csv").read_text()
    with pytest.raises(OutputError, match="holds a saved run; write the traces into another folder"):
        two_days.write_traces(run, [1])
    assert (run / "cgm_metrics.csv").read_text() == metrics and not (run / "traces" / "day_00001.csv").exists()
    SimulationResult.load(run)


def test_write_traces_checks_its_days_before_writing_and_takes_one_day(tmp_path, two_days):
    from glucosim.errors import ResultError

    with pytest.raises(ResultError, match="day 5 is outside the run"):
        two_days.write_traces(tmp_path / "bad", [5])
    assert not (tmp_path / "bad").exists()  # an empty traces/ was left
    paths = two_days.write_traces(tmp_path / "one", 1)  # was a TypeError ('int' object is not iterable)
    assert sorted(paths) == ["cgm_metrics", "trace_1"]


@pytest.mark.parametrize("name", [3, None, ["body_weight"]])
def test_a_parameter_asked_by_what_is_not_a_name_is_a_parameter_error(name):
    # result.parameter(3) and load_parameter_table()[None] were TypeErrors from difflib, [...] one from the dict
    from glucosim.errors import ParameterError
    from glucosim.parameters import load_parameter_table

    with pytest.raises(ParameterError, match=r"a parameter is named by its table name \(a string\), got "):
        load_parameter_table()[name]


def test_days_given_as_a_generator_are_kept():
    # simulate(trajectory_days=<generator>) used the generator up in its check of the days, and no day was kept
    import glucosim
    from tests.conftest import scenario_dict

    run = glucosim.simulate(scenario_dict(duration_days=3), trajectory_days=(day for day in [1]), progress=False)
    assert 1 in run.trajectories


@pytest.mark.parametrize("text", ["", "# a comment only\n"])
def test_an_empty_scenario_file_is_named_as_empty(tmp_path, text):
    # it was "name: required field is missing", as if one field had been forgotten
    from glucosim.errors import ScenarioError
    from glucosim.scenario.load import load_scenario

    path = tmp_path / "empty.toml"
    path.write_text(text)
    with pytest.raises(
        ScenarioError, match=r"empty\.toml: the file holds no fields .* a name and one of duration_years"
    ):
        load_scenario(path)
