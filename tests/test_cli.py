"""The command line: validate, presets, parameters, and run on a short scenario."""

import json

from click.testing import CliRunner

from glucosim.cli import main
from tests.conftest import SCENARIO_DIR


def test_validate_accepts_shipped_scenarios():
    paths = [str(path) for path in sorted(SCENARIO_DIR.glob("*.toml"))]
    result = CliRunner().invoke(main, ["validate", *paths])
    assert result.exit_code == 0, result.output
    assert result.output.count("ok:") == len(paths)


def test_validate_reports_file_and_field(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text('name = "x"\nduration_days = 2\n[subject]\npreset = "healthy"\nsensitivity = 0.5\n')
    result = CliRunner().invoke(main, ["validate", str(bad)])
    assert result.exit_code == 2
    assert "bad.toml" in result.output and "subject.sensitivity: unknown field" in result.output
    assert "insulin_sensitivity" in result.output


def test_run_short_scenario_writes_outputs(tmp_path):
    scenario = tmp_path / "two_days.toml"
    scenario.write_text(
        '# Teaches: nothing, it is a test\nname = "two days"\nduration_days = 2\n'
        "[[routine.meals]]\ntime_h = 8\ncarbs_g = 75\n"
    )
    result = CliRunner().invoke(main, ["run", str(scenario), "--out", str(tmp_path / "out"), "--no-progress"])
    assert result.exit_code == 0, result.output
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert summary["scenario"] == "two days" and summary["final_stage"] == "normal"
    assert len(summary["yearly"]) == 1
    assert (tmp_path / "out" / "daily.csv").read_text().count("\n") == 3
    for figure in ("progression.png", "day.png"):
        assert (tmp_path / "out" / figure).stat().st_size > 10_000


def test_run_bad_scenario_fails_cleanly(tmp_path):
    scenario = tmp_path / "bad.toml"
    scenario.write_text('name = "x"\nduration_days = 2\n[[routine.meals]]\ntime_h = 30\ncarbs_g = 50\n')
    result = CliRunner().invoke(main, ["run", str(scenario), "--out", str(tmp_path / "out")])
    assert result.exit_code == 2
    assert "routine.meals[0].time_h" in result.output and "less than 24" in result.output
    assert not (tmp_path / "out").exists()


def test_presets_and_parameters_listing():
    runner = CliRunner()
    presets = runner.invoke(main, ["presets"])
    assert presets.exit_code == 0 and "insulin_resistant_low_reserve" in presets.output
    table = runner.invoke(main, ["parameters", "--compartment", "liver"])
    assert table.exit_code == 0 and "kp1" in table.output and "source:" in table.output
