"""Strict inputs: no coercion, every bound and relation, finite CLI numbers, one-line errors for bad files.

Cases from issue 14, items 7 and 8 (each reproduced with the CLI before the fix).
"""

import errno

import pytest
from click.testing import CliRunner

from glucosim.cli import main
from glucosim.errors import ScenarioError, SweepError
from glucosim.scenario.load import load_scenario, parse_scenario
from tests.conftest import scenario_dict


def _error(data) -> str:
    with pytest.raises(ScenarioError) as info:
        parse_scenario(data, source="bad.toml")
    return str(info.value)


@pytest.mark.parametrize(
    ("data", "field", "says"),
    [
        (
            scenario_dict(routine={"meals": [{"time_h": 8, "carbs_g": "60"}]}),
            "routine.meals[0].carbs_g",
            "valid number",
        ),
        (scenario_dict(duration_days=True), "duration_days", "valid integer"),
        (scenario_dict(subject={"start_adapted": "yes"}), "subject.start_adapted", "valid boolean"),
        (scenario_dict(subject={"parameters": {"body_weight": True}}), "subject.parameters.body_weight", "number"),
        (scenario_dict(output={"trajectory_days": [-1]}), "output.trajectory_days", "day -1 is outside the run"),
        (scenario_dict(output={"trajectory_days": [99999]}), "output.trajectory_days", "day 99999 is outside"),
        (scenario_dict(duration_days=None, duration_hours=1e-9), "duration_hours", "greater than or equal to 1"),
        (scenario_dict(duration_days=None, duration_hours=0.5), "duration_hours", "greater than or equal to 1"),
        (scenario_dict(duration_days=2.5), "duration_days", "integer"),
        (scenario_dict(routine={"sleep_h": float("nan")}), "routine.sleep_h", "finite number"),
    ],
)
def test_loose_values_are_refused_naming_the_field(data, field, says):
    message = _error(data)
    assert "bad.toml" in message and field in message and says in message


def test_whole_floats_still_fill_integer_fields():
    # a sweep sets every variable as a float: from_day = 3.0 must stay a valid day
    loaded = parse_scenario(scenario_dict(duration_days=5.0, changes=[{"from_day": 3.0, "sleep_h": 6.0}]))
    assert loaded.scenario.duration_days == 5 and loaded.scenario.changes[0].from_day == 3


def test_a_run_shorter_than_a_day_is_supported_by_the_cli(tmp_path):
    scenario = tmp_path / "six_hours.toml"
    scenario.write_text('name = "six hours"\nduration_hours = 6\n[[routine.meals]]\ntime_h = 5\ncarbs_g = 60\n')
    result = CliRunner().invoke(main, ["run", str(scenario), "--out", str(tmp_path / "out"), "--no-figures"])
    assert result.exit_code == 0, result.output
    assert "fasting insulin" in result.output and (tmp_path / "out" / "COMPLETE.json").is_file()


# ------------------------------------------------------------------ file-level failures
def _bad_files(tmp_path):
    binary = tmp_path / "binary.toml"
    binary.write_bytes(b'\xff\xfe\x00name = "x"\n')
    nul = tmp_path / "nul.toml"
    nul.write_bytes(b'name = "x"\x00\n')
    deep = tmp_path / "deep.toml"
    deep.write_text('name = "x"\nz = ' + "[" * 50_000 + "]" * 50_000 + "\n")
    large = tmp_path / "large.toml"
    large.write_text('name = "x"\n' + "# padding\n" * 120_000)
    long_name = tmp_path / ("a" * 300 + ".toml")
    return {
        binary: "not a text file (byte 0xff at position 0 is not UTF-8)",
        nul: "contains NUL bytes",
        deep: "nested too deeply",
        large: "too large",
        long_name: "File name too long",
    }


def test_bad_files_are_one_line_errors_naming_the_file(tmp_path):
    for path, says in _bad_files(tmp_path).items():
        with pytest.raises(ScenarioError) as info:
            load_scenario(path)
        message = str(info.value)
        assert "\n" not in message and says in message
        assert path.name[:40] in message  # a 300-character name is shortened, not hidden


def test_validate_names_a_binary_file(tmp_path):
    path = next(iter(_bad_files(tmp_path)))
    result = CliRunner().invoke(main, ["validate", str(path)])
    assert result.exit_code == 2 and str(path) in result.output and "Traceback" not in result.output


def test_a_binary_sweep_or_base_scenario_is_a_sweep_error(tmp_path):
    from glucosim.sweep import load_sweep
    from tests._sweep_helpers import write_sweep

    path = write_sweep(tmp_path)
    (tmp_path / "base.toml").write_bytes(b"\x89PNG\r\n\x1a\n")
    with pytest.raises(SweepError, match=r"sweep.toml: base_scenario: .*base.toml: not a text file"):
        load_sweep(path)
    path.write_bytes(b"\x00\x01\x02")
    with pytest.raises(SweepError, match=r"sweep.toml: not a text file"):
        load_sweep(path)


def test_an_unreadable_file_is_named(tmp_path, monkeypatch):
    from pathlib import Path

    path = tmp_path / "locked.toml"
    path.write_text('name = "x"\nduration_days = 1\n')

    def denied(self):
        raise PermissionError(errno.EACCES, "Permission denied", str(self))

    monkeypatch.setattr(Path, "read_bytes", denied)  # tests run as root, where chmod does not block reading
    with pytest.raises(ScenarioError, match=r"locked.toml: cannot read the scenario file: Permission denied"):
        load_scenario(path)


# ------------------------------------------------------------------ numeric CLI options
@pytest.mark.parametrize(
    ("args", "option", "says"),
    [
        (["clinic", "ogtt_75g", "--subject", "healthy", "--at-year", "inf"], "--at-year", "finite number"),
        (["clinic", "ogtt_75g", "--subject", "healthy", "--at-year", "nan"], "--at-year", "finite number"),
        (["clinic", "ogtt_75g", "--subject", "healthy", "--at-year", "-1"], "--at-year", ">= 0"),
        (
            ["export-sbml", "--subject", "healthy", "--oral-glucose-g", "nan", "--out", "x.xml"],
            "--oral-glucose-g",
            "finite",
        ),
        (
            ["export-sbml", "--subject", "healthy", "--oral-glucose-g", "-75", "--out", "x.xml"],
            "--oral-glucose-g",
            ">= 0",
        ),
        (
            ["export-sbml", "--subject", "healthy", "--oral-glucose-g", "1e9", "--out", "x.xml"],
            "--oral-glucose-g",
            "<= 200",
        ),
    ],
)
def test_numeric_options_refuse_nan_inf_and_out_of_range_naming_the_option(tmp_path, args, option, says):
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 2 and f"'{option}'" in result.output and says in result.output
    assert not (tmp_path / "x.xml").exists()


def test_export_sbml_into_a_missing_folder_is_one_line(tmp_path):
    out = tmp_path / "missing" / "x.xml"
    result = CliRunner().invoke(main, ["export-sbml", "--subject", "healthy", "--out", str(out)])
    assert result.exit_code == 2 and f"no folder {out.parent}" in result.output
    assert "Traceback" not in result.output


@pytest.mark.parametrize("bad", ['""', "[[1]]", '"day one"'])
def test_an_arm_change_with_a_non_numeric_start_is_named(tmp_path, bad):
    # found by the property tests: sorting the changes by start day raised ValueError/TypeError
    from glucosim.sweep import load_sweep
    from tests._sweep_helpers import GRID_SWEEP, write_sweep

    path = write_sweep(tmp_path, GRID_SWEEP.replace("from_day = 0", f"from_day = {bad}"))
    with pytest.raises(SweepError, match=r"(?s)arm 'exercise'.*changes\[0\]\.from_day"):
        load_sweep(path)


def test_export_sbml_into_a_read_only_folder_is_one_line(tmp_path, monkeypatch):
    import os

    monkeypatch.setattr(os, "access", lambda path, mode: False)  # tests run as root, where chmod does not block
    result = CliRunner().invoke(main, ["export-sbml", "--subject", "healthy", "--out", str(tmp_path / "x.xml")])
    assert result.exit_code == 2 and "is not writable" in result.output and not (tmp_path / "x.xml").exists()


def test_validate_and_run_name_a_file_whose_name_is_too_long(tmp_path):
    path = tmp_path / ("b" * 300 + ".toml")
    for args in (["validate", str(path)], ["run", str(path), "--out", str(tmp_path / "out")]):
        result = CliRunner().invoke(main, args)
        assert result.exit_code == 2 and "File name too long" in result.output, result.output
        assert "b" * 40 in result.output and "Traceback" not in result.output
