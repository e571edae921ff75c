"""The command line: check, presets, parameters, scenarios by name, what-ifs, traces, and run on a short scenario."""

import json

import pytest
from click.testing import CliRunner

from glucosim.cli import main
from tests.conftest import SCENARIO_DIR


def test_check_accepts_shipped_scenarios_by_path_and_name():
    paths = [str(path) for path in sorted(SCENARIO_DIR.glob("*.toml"))]
    result = CliRunner().invoke(main, ["check", *paths, "01_healthy_baseline"])
    assert result.exit_code == 0, result.output
    assert result.output.count("ok:") == len(paths) + 1


def test_validate_is_a_deprecated_alias_of_check():
    result = CliRunner().invoke(main, ["validate", "01_healthy_baseline"])
    assert result.exit_code == 0 and "deprecated" in result.output and "ok:" in result.output


def test_check_reports_file_and_field(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text('name = "x"\nduration_days = 2\n[subject]\npreset = "healthy"\nsensitivity = 0.5\n')
    result = CliRunner().invoke(main, ["check", str(bad)])
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


def test_scenarios_lists_shipped_names():
    result = CliRunner().invoke(main, ["scenarios"])
    assert result.exit_code == 0
    names = [line.split()[0] for line in result.output.splitlines()]
    assert names == sorted(path.stem for path in SCENARIO_DIR.glob("*.toml"))
    assert CliRunner().invoke(main, ["run", "--list"]).output == result.output


def test_run_by_name_with_what_if_and_trace_days(tmp_path):
    out = tmp_path / "out"
    result = CliRunner().invoke(
        main,
        [
            "run",
            "03_insulin_resistance_low_reserve",
            "--set",
            "duration_days=3",
            "--set",
            "beta_cell_reserve=2.5",
            "--trace-days",
            "0,2",
            "--no-figures",
            "--out",
            str(out),
        ],
    )
    assert result.exit_code == 0, result.output
    assert "dropped: clinic visit ogtt_75g at year 4" in result.output
    assert "tracing 2 days at full resolution" in result.output  # the wait after the run is explained
    summary = json.loads((out / "summary.json").read_text())
    assert summary["duration_days"] == 3 and summary["provenance"]["parameter_overrides"]["beta_function_max"] == 2.5
    trace = (out / "traces" / "day_00002.csv").read_text().splitlines()
    assert trace[0].startswith("time_min,clock_h,glucose_mg_dl,insulin_uU_ml") and len(trace) == 1 + 289
    metrics = (out / "cgm_metrics.csv").read_text().splitlines()
    assert metrics[0].startswith("day,mean_glucose_mg_dl") and [line.split(",")[0] for line in metrics[1:]] == [
        "0",
        "2",
    ]


def test_run_errors_are_one_style(tmp_path):
    runner = CliRunner()
    for arguments, message in [
        (["run", "03_insulin_resistance_low_reserv"], "did you mean 03_insulin_resistance_low_reserve"),
        (["run", "01_healthy_baseline", "--set", "beta_cell_reserv=3"], "unknown override 'beta_cell_reserv'"),
        (["run", "01_healthy_baseline", "--set", "nonsense"], "write NAME=VALUE"),
        (["run", "01_healthy_baseline", "--set", "duration_days=2", "--trace-days", "5"], "outside the run"),
        (
            ["run", "01_healthy_baseline", "--set", "duration_days=9", "--trace-days", "5-2"],
            "range '5-2' runs backwards",
        ),
        (
            ["run", "01_healthy_baseline", "--set", "duration_days=9", "--trace-days", "0--1"],
            "range '0--1' has a negative day; the days are 0 to 8",  # was said to run backwards
        ),
        (["parameters", "--compartment", "spleen"], "choose one of: "),
        (["clinic"], "give a PROTOCOL"),
    ]:
        result = runner.invoke(main, [*arguments, "--out", str(tmp_path)] if arguments[0] == "run" else arguments)
        assert result.exit_code == 2, arguments
        assert result.output.startswith("error: ") and message in result.output, result.output


def test_parameters_compartment_is_case_insensitive_and_listed():
    runner = CliRunner()
    lower = runner.invoke(main, ["parameters", "--compartment", "liver"]).output
    assert lower and runner.invoke(main, ["parameters", "--compartment", "Liver"]).output == lower
    listing = runner.invoke(main, ["parameters", "--list"])
    assert listing.exit_code == 0 and "liver" in listing.output


def test_clinic_lists_protocols():
    result = CliRunner().invoke(main, ["clinic", "--list"])
    assert result.exit_code == 0 and "ogtt_75g" in result.output and "clamp_40mU" in result.output


def test_export_sbml_defaults_to_the_healthy_subject(tmp_path):
    pytest.importorskip("libsbml")
    out = tmp_path / "model.xml"
    result = CliRunner().invoke(main, ["export-sbml", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "healthy" in out.read_text()


def test_run_method_and_resolution_are_checked():
    runner = CliRunner()
    listing = runner.invoke(main, ["run", "--method", "list"])
    assert listing.exit_code == 0 and "dopri5" in listing.output.split()
    bad = runner.invoke(main, ["run", "01_healthy_baseline", "--method", "euler"])
    assert bad.exit_code == 2 and "choose one of: " in bad.output and "dopri5" in bad.output
    bad = runner.invoke(main, ["run", "01_healthy_baseline", "--resolution", "coarse"])
    assert bad.exit_code == 2 and "envelope" in bad.output


def test_export_sbml_whole_model_over_days(tmp_path):
    libsbml = pytest.importorskip("libsbml")
    out = tmp_path / "week.xml"
    result = CliRunner().invoke(
        main, ["export-sbml", "--subject", "01_healthy_baseline", "--days", "2", "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    model = libsbml.readSBMLFromFile(str(out)).getModel()
    rates = {model.getRule(i).getVariable() for i in range(model.getNumRules()) if model.getRule(i).isRate()}
    assert {"beta_mass_rel", "weight_change_kg", "glucose_plasma_mg_kg"} <= rates
    assert model.getNumEvents() >= 2 * 3  # at least each day's three meals


# ------------------------------------------------------------------ bad options found by the bad-input hunt
@pytest.mark.parametrize(
    ("days", "expected"),
    [
        ("0-999999999", "--trace-days: range '0-999999999' reaches outside the run (days 0 to 1)"),  # was: OOM-killed
        (",", "--trace-days ',': no day given"),  # was: no trace written, nothing said
    ],
)
def test_trace_days_outside_the_run_or_empty_are_refused_before_simulating(tmp_path, days, expected):
    args = [
        "run",
        "01_healthy_baseline",
        "--set",
        "duration_days=2",
        "--trace-days",
        days,
        "--out",
        str(tmp_path / "o"),
    ]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 2 and expected in result.output
    assert not (tmp_path / "o").exists()


@pytest.mark.parametrize(
    ("option", "value"),
    [
        ("--slurm-memory", "abc"),
        ("--slurm-walltime", "4 hours"),
        ("--slurm-memory", "2 lots"),
        ("--slurm-memory", "0"),  # was accepted
        ("--slurm-memory", "0.0GB"),
    ],
)
def test_slurm_sizes_and_times_are_checked_by_the_command_line(tmp_path, option, value):
    # --slurm-memory abc was a ValueError traceback from dask-jobqueue
    result = CliRunner().invoke(
        main, ["sweep", "prediabetes_lifestyle", "--slurm", option, value, "--out", str(tmp_path)]
    )
    assert (
        result.exit_code == 2
        and f"Invalid value for '{option}'" in result.output
        and "is not of the form" in result.output
    )


def test_slurm_sizes_and_times_of_the_usual_forms_are_accepted():
    from glucosim.cli_options import SLURM_MEMORY, SLURM_WALLTIME

    assert [SLURM_MEMORY.convert(v, None, None) for v in ("2GB", "512MB", "16GiB", "4000")] == [
        "2GB",
        "512MB",
        "16GiB",
        "4000",
    ]
    # dask's parse_bytes reads units in any case: '2gb' and '512mb' were refused
    assert [SLURM_MEMORY.convert(v, None, None) for v in ("2gb", "512mb", "0.5GB")] == ["2gb", "512mb", "0.5GB"]
    assert SLURM_WALLTIME.convert("1-12:00:00", None, None) == "1-12:00:00"
    assert SLURM_WALLTIME.convert("90", None, None) == "90"


def test_analyze_refuses_a_column_the_results_do_not_have(tmp_path):
    # was a note after the whole analysis, with exit status 0
    import pandas as pd

    pd.DataFrame({"run_id": [0], "final_hba1c_percent": [5.5], "years_to_diabetes": [1.0]}).to_parquet(
        tmp_path / "results.parquet"
    )
    result = CliRunner().invoke(main, ["analyze", str(tmp_path), "--column", "final_hba1c"])
    assert result.exit_code == 2
    assert "--column 'final_hba1c': not a column of" in result.output and "final_hba1c_percent" in result.output


def test_validation_runs_only_the_named_cases_and_writes_no_page(tmp_path, monkeypatch):
    """`glucosim validation --case ID` checks one case against its file without rerunning the rest or rewriting the
    page: each quantity with its published range and verdict; exit 0 while every verdict is the file's."""
    monkeypatch.chdir(tmp_path)  # the page's default place, docs/validation.md, is then under tmp_path
    result = CliRunner().invoke(main, ["validation", "--case", "basal_glucose_use"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].startswith("basal_glucose_use: ")
    assert len(lines) == 1 + 3  # the case's three quantities
    assert all(" agrees" in line and "published" in line for line in lines[1:])
    assert not (tmp_path / "docs").exists()


def test_validation_refuses_an_unknown_case_naming_the_cases():
    from glucosim.validation.cases import load_cases

    result = CliRunner().invoke(main, ["validation", "--case", "basal_glucose_use", "--case", "no_such_case"])
    assert result.exit_code == 2
    assert "no validation case 'no_such_case'" in result.output
    assert all(case.id in result.output for case in load_cases())


@pytest.mark.parametrize("option", [["--out", "elsewhere.md"], ["--no-figures"]])
def test_validation_refuses_page_options_with_case(option):
    """--case writes no page, so an --out or --no-figures given with it is refused rather than silently ignored."""
    result = CliRunner().invoke(main, ["validation", "--case", "basal_glucose_use", *option])
    assert result.exit_code == 2
    assert f"--case writes no page, so {option[0]} does not apply" in result.output


def test_run_validation_refuses_a_bare_string_and_an_empty_selection():
    from glucosim.validation.cases import run_validation

    with pytest.raises(TypeError, match=r"not one string \('basal_glucose_use'\): give \['basal_glucose_use'\]"):
        run_validation(only="basal_glucose_use")
    # the message lists every case id, in file order (basal_glucose_output_type2 sorts before basal_glucose_use)
    with pytest.raises(ValueError, match=r"no validation case named; the cases: (\w+, )*basal_glucose_use, "):
        run_validation(only=[])


def test_validation_of_one_case_exits_1_when_a_verdict_differs_from_its_file(monkeypatch):
    from glucosim.validation import cases

    values = {"whole_body_use_mg_kg_min": 9.0, "brain_fraction": 0.5, "muscle_adipose_fraction": 0.25}
    monkeypatch.setitem(cases.CASE_FUNCTIONS, "basal_glucose_use", lambda: values)
    quantity_names = [q.name for q in next(c for c in cases.load_cases() if c.id == "basal_glucose_use").quantities]
    assert sorted(quantity_names) == sorted(values), quantity_names  # the names this test sets are the file's
    result = CliRunner().invoke(main, ["validation", "--case", "basal_glucose_use"])
    assert result.exit_code == 1
    assert "disagrees (the case file expects it to agree: changed)" in result.output


def test_a_cases_own_error_is_not_reported_as_a_bad_case_option(monkeypatch):
    from glucosim.validation import cases

    def broken():
        raise ValueError("inside the case")

    monkeypatch.setitem(cases.CASE_FUNCTIONS, "basal_glucose_use", broken)
    result = CliRunner().invoke(main, ["validation", "--case", "basal_glucose_use"])
    assert result.exit_code == 1 and isinstance(result.exception, ValueError)
    assert "Invalid value for --case" not in result.output
