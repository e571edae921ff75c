"""Holes found by the user's-eye hunt of 2026-12-03: output files that clobber or half-write, and messages."""

import json

import pytest
from click.testing import CliRunner

from glucosim.cli import main
from glucosim.clinic.runner import run_protocol
from glucosim.errors import GlucosimError
from glucosim.io.results import COMPLETE_FILE, SWEEP_MANIFEST


@pytest.fixture(scope="module")
def fasting_result():
    return run_protocol("fasting", "healthy")


def test_clinic_save_refuses_a_run_folder_and_leaves_its_files(tmp_path, fasting_result):
    # a run's folder has its own clinic_samples.csv, checksummed in COMPLETE.json: clinic --out into it overwrote
    # that file and the run then failed its own verification
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    (run_dir / "clinic_samples.csv").write_text("the run's visits\n")
    (run_dir / COMPLETE_FILE).write_text("{}\n")
    with pytest.raises(GlucosimError, match="holds a glucosim run"):
        fasting_result.save(run_dir)
    assert (run_dir / "clinic_samples.csv").read_text() == "the run's visits\n"
    assert not (run_dir / "clinic.json").exists()


def test_clinic_save_refuses_a_sweep_folder(tmp_path, fasting_result):
    (tmp_path / SWEEP_MANIFEST).write_text("{}\n")
    with pytest.raises(GlucosimError, match="sweep"):
        fasting_result.save(tmp_path)
    assert sorted(path.name for path in tmp_path.iterdir()) == [SWEEP_MANIFEST]


def test_clinic_save_interrupted_leaves_the_previous_files_whole(tmp_path, fasting_result, monkeypatch):
    # an interrupt while the CSV was being written left a truncated clinic_samples.csv beside a clinic.json
    fasting_result.save(tmp_path)
    before = {name: (tmp_path / name).read_text() for name in ("clinic.json", "clinic_samples.csv")}

    def interrupted(self, path, **kwargs):
        with open(path, "w") as handle:
            handle.write("time_min,glu")
        raise KeyboardInterrupt

    monkeypatch.setattr("pandas.DataFrame.to_csv", interrupted)
    with pytest.raises(KeyboardInterrupt):
        fasting_result.save(tmp_path)
    assert {name: (tmp_path / name).read_text() for name in before} == before
    assert sorted(path.name for path in tmp_path.iterdir()) == sorted(before)


def test_cli_clinic_into_a_run_folder_is_one_error_line(tmp_path):
    (tmp_path / "summary.json").write_text("{}\n")
    result = CliRunner().invoke(main, ["clinic", "fasting", "--out", str(tmp_path)])
    assert result.exit_code == 2, result.output
    assert result.output.count(str(tmp_path)) == 1 and "holds a glucosim run" in result.output
    assert json.loads((tmp_path / "summary.json").read_text()) == {}


def test_sbml_export_interrupted_leaves_no_half_written_file(tmp_path, monkeypatch):
    libsbml = pytest.importorskip("libsbml")
    from glucosim.clinic.runner import morning_test_state, subject_scenario
    from glucosim.io import sbml

    loaded = subject_scenario("healthy")
    state, drivers, _ = morning_test_state(loaded)
    out = tmp_path / "model.xml"
    out.write_text("the previous export\n")

    def interrupted(document, path):
        with open(path, "w") as handle:
            handle.write('<?xml version="1.0" encoding="UTF-8"?>\n<sbml')
        raise KeyboardInterrupt

    monkeypatch.setattr(libsbml, "writeSBMLToFile", interrupted)
    with pytest.raises(KeyboardInterrupt):
        sbml.write_sbml(out, state, loaded.parameters, drivers)
    assert out.read_text() == "the previous export\n"
    assert [path.name for path in tmp_path.iterdir()] == ["model.xml"]


@pytest.mark.parametrize("out", [".", ".."])
def test_run_out_the_current_folder_is_refused_before_simulating(tmp_path, monkeypatch, out):
    # `--out .` simulated the whole run, then failed to rename the results onto the working folder ("Device or
    # resource busy"); `..` with --overwrite would have moved the folder the user stands in aside
    inner = tmp_path / "here"
    inner.mkdir()
    monkeypatch.chdir(inner)
    result = CliRunner().invoke(main, ["run", "01_healthy_baseline", "--set", "duration_days=1", "--out", out])
    assert result.exit_code == 2, result.output
    assert "current folder" in result.output and "running" not in result.output
    assert sorted(path.name for path in tmp_path.iterdir()) == ["here"] and not any(inner.iterdir())


def test_two_meals_at_one_time_in_a_change_are_refused_like_in_the_routine():
    # the routine refused them, a change took them and the run silently dropped one of the meals (the day with 50 g
    # and 60 g at 08:00 gave the trace of the 60-g meal alone)
    import glucosim

    meals = [{"time_h": 8.0, "carbs_g": 50.0}, {"time_h": 8.0, "carbs_g": 60.0}]
    for data in (
        {"name": "x", "duration_days": 2, "routine": {"meals": meals}},
        {"name": "x", "duration_days": 2, "changes": [{"from_day": 1, "meals": meals}]},
    ):
        with pytest.raises(GlucosimError, match=r"two meals at the same time_h \(8 h;"):
            glucosim.load_scenario(data)
    with pytest.raises(GlucosimError, match=r"changes\[0\]"):
        glucosim.load_scenario({"name": "x", "duration_days": 2, "changes": [{"from_day": 1, "meals": meals}]})


def test_meals_a_clock_step_apart_are_named_as_one_time():
    # 8 h and 8.0001 h fall on one step of the 1/1024-h clock grid: the message said "the same time_h" of two
    # different numbers without saying why
    import glucosim

    meals = [{"time_h": 8.0, "carbs_g": 50.0}, {"time_h": 8.0001, "carbs_g": 60.0}]
    with pytest.raises(GlucosimError, match="1/1024 h"):
        glucosim.load_scenario({"name": "x", "duration_days": 2, "routine": {"meals": meals}})


# ------------------------------------------------------------------ protocols whose indices would be misread
def _protocol_problem(tmp_path, data: dict) -> str:
    from glucosim.scenario.protocol import load_protocol

    def value(item):
        return f'"{item}"' if isinstance(item, str) else repr(item)

    lines = [f"{key} = {value(item)}" for key, item in data.items() if key != "actions"]
    for action in data.get("actions", []):
        lines += ["[[actions]]", *(f"{key} = {value(item)}" for key, item in action.items())]
    path = tmp_path / "p.toml"
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(GlucosimError) as caught:
        load_protocol(path)
    return str(caught.value)


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        # the drink at minute 120 of a 120-min test: never absorbed, and the test classed the subject "normal"
        (
            {
                "kind": "ogtt",
                "duration_min": 120,
                "samples_min": [0, 120],
                "actions": [{"at_min": 120, "oral_glucose_g": 75}],
            },
            "an 'ogtt' needs its oral_glucose_g drink at minute 0",
        ),
        (
            {
                "kind": "ivgtt",
                "duration_min": 180,
                "sample_every_min": 2,
                "actions": [{"at_min": 20, "iv_glucose_g_per_kg": 0.3}],
            },
            "an 'ivgtt' needs its iv_glucose_g_per_kg bolus at minute 0",
        ),
        # a 10-min bolus from minute 0 of a 5-min test: half the dose was never given, and SI and AIRg were reported
        (
            {
                "kind": "fasting",
                "duration_min": 5,
                "sample_every_min": 1,
                "actions": [{"at_min": 0, "iv_glucose_g_per_kg": 0.3, "bolus_duration_min": 10}],
            },
            "actions[0]: the bolus runs from minute 0 to 10, past the end of the test",
        ),
    ],
)
def test_protocols_whose_indices_would_be_misread_are_refused(tmp_path, data, expected):
    message = _protocol_problem(tmp_path, {"name": "p", **data})
    assert "p.toml" in message and expected in message and "allowed:" in message


def test_an_ogtt_without_a_two_hour_sample_is_not_classed_normal():
    import pandas as pd

    from glucosim.clinic import analysis

    times = [0.0, 30.0, 60.0]
    samples = pd.DataFrame(
        {
            "time_min": times,
            "glucose_mg_dl": [90.0, 250.0, 260.0],
            "insulin_uU_ml": [8.0, 60.0, 70.0],
            "nefa_mmol_l": [0.5, 0.3, 0.2],
        }
    )
    indices = analysis.ogtt_indices(samples)
    assert indices["glucose_tolerance"] == "not classified (no 120-min sample)"


def test_clinic_at_a_year_on_a_preset_says_to_give_a_scenario():
    # "preset healthy: day 1826 is outside the scenario (allowed: 0 to 0, i.e. years 0 to 0.001)" named no way out
    result = CliRunner().invoke(main, ["clinic", "fasting", "--subject", "healthy", "--at-year", "5"])
    assert result.exit_code == 2, result.output
    assert "preset healthy" in result.output and "allowed: 0 to 0" in result.output
    assert "a preset lives one reference day" in result.output and "--subject" in result.output


def test_a_loaded_scenario_shortened_drops_its_late_changes_and_visits_like_a_file():
    # load_scenario("07a_...", duration_days=3) dropped the change at year 9 with a note, but the same override on
    # the loaded scenario (what export-sbml --days does) failed: "a change starts on day 3287, after the end of
    # the run" (model_dump gives tuples, and only lists were trimmed)
    import glucosim

    with pytest.warns(UserWarning, match="dropped: change"):
        from_name = glucosim.load_scenario("07a_early_intervention", duration_days=3)
    with pytest.warns(UserWarning, match="dropped: change"):
        from_loaded = glucosim.load_scenario(glucosim.load_scenario("07a_early_intervention"), duration_days=3)
    assert from_loaded.scenario == from_name.scenario and from_loaded.scenario.changes == ()
    visits = {"name": "v", "duration_days": 30, "clinic": [{"protocol": "fasting", "at_years": [0.0, 0.05]}]}
    with pytest.warns(UserWarning, match="dropped: clinic visit fasting at year 0.05"):
        shortened = glucosim.load_scenario(glucosim.load_scenario(visits), duration_days=10)
    assert [visit.at_years for visit in shortened.scenario.clinic] == [(0.0,)]


def test_export_sbml_days_of_a_scenario_with_later_changes(tmp_path):
    pytest.importorskip("libsbml")
    out = tmp_path / "a.xml"
    result = CliRunner().invoke(
        main, ["export-sbml", "--subject", "07a_early_intervention", "--days", "2", "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    assert out.is_file() and "2 days as events" in result.output


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("scenarios/sweeps/prediabetes_lifestyle.toml", "is a sweep file, not a scenario: run it with glucosim sweep"),
        ("protocols/ogtt_75g.toml", "is a protocol file, not a scenario: run it with glucosim clinic"),
    ],
)
def test_check_of_a_sweep_or_protocol_file_names_what_it_is(path, expected):
    # it listed every sweep or protocol field as an unknown scenario field
    from pathlib import Path

    file = Path(__file__).resolve().parent.parent / path
    result = CliRunner().invoke(main, ["check", str(file)])
    assert result.exit_code == 2, result.output
    assert f"{file}: {expected}" in result.output and "unknown field" not in result.output


def test_the_same_name_set_twice_is_refused(tmp_path):
    # --set sleep_h=6 --set sleep_h=9 ran with 9 and said nothing of the 6
    settings = ["--set", "duration_days=1", "--set", "sleep_h=6", "--set", " sleep_h=9"]
    result = CliRunner().invoke(main, ["run", "01_healthy_baseline", *settings, "--out", str(tmp_path / "out")])
    assert result.exit_code == 2, result.output
    assert "--set 'sleep_h' is given twice (6 and 9)" in result.output and "running" not in result.output


def test_a_missing_glucose_where_one_is_always_sampled_is_not_plausible():
    # NaN stood for "not sampled that day" in every column, so a day whose mean glucose was NaN (a state gone
    # non-finite) or a clinic sample with no glucose passed as plausible
    import pandas as pd

    from glucosim.simulation.plausibility import check_clinic_samples, check_daily

    daily = pd.DataFrame(
        {
            "day": [0, 1],
            "min_glucose_mg_dl": [70.0, 72.0],
            "max_glucose_mg_dl": [150.0, 151.0],
            "mean_glucose_mg_dl": [100.0, float("nan")],
            "postmeal_2h_glucose_mg_dl": [float("nan"), float("nan")],  # no meal: not sampled, allowed
        }
    )
    verdict = check_daily(daily)
    assert [problem["marker"] for problem in verdict.problems] == ["mean_glucose_mg_dl"]
    assert verdict.problems[0]["first"] == "day 1" and "not a number" in verdict.message()
    samples = pd.DataFrame({"time_min": [0.0, 5.0], "glucose_mg_dl": [90.0, float("nan")], "insulin_uU_ml": [6.0, 7.0]})
    assert [problem["marker"] for problem in check_clinic_samples(samples).problems] == ["glucose_mg_dl"]


def test_export_sbml_days_says_what_it_dropped_as_a_note(tmp_path):
    pytest.importorskip("libsbml")
    arguments = ["export-sbml", "--subject", "07a_early_intervention", "--days", "2", "--out", str(tmp_path / "a.xml")]
    result = CliRunner().invoke(main, arguments)
    assert result.exit_code == 0, result.output
    assert "note: " in result.output and "dropped: change" in result.output and "UserWarning" not in result.output


def _interrupted_half_way(monkeypatch, target: str):
    """``target`` (``Figure.savefig(path)`` or ``Path.write_text(text)``) writes half of its file, then the user
    presses Ctrl-C."""

    def interrupted(self, path_or_text, *args, **kwargs):
        with open(self if target.endswith("Path.write_text") else path_or_text, "w") as handle:
            handle.write("half of a fi")
        raise KeyboardInterrupt

    monkeypatch.setattr(target, interrupted)


def _leaves_the_previous_file_whole(folder, name: str, write) -> None:
    (folder / name).write_bytes(b"the previous file\n")  # not write_text: it may be the one interrupted
    with pytest.raises(KeyboardInterrupt):
        write(folder / name)
    assert (folder / name).read_text() == "the previous file\n"
    assert sorted(path.name for path in folder.iterdir()) == [name]  # no temporary left either


def test_an_interrupted_figure_leaves_the_previous_figure_whole(tmp_path, monkeypatch):
    # glucosim figure --out, make_figure(out=...), the gallery's images: savefig wrote the file in place
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from glucosim.plotting.style import save_figure

    figure = plt.figure()
    _interrupted_half_way(monkeypatch, "matplotlib.figure.Figure.savefig")
    _leaves_the_previous_file_whole(tmp_path, "figure.svg", lambda path: save_figure(figure, path))
    plt.close(figure)


def test_an_interrupted_report_page_leaves_the_previous_page_whole(tmp_path, monkeypatch):
    # glucosim validation --out and glucosim gallery rewrite a page at the end of minutes of work
    from glucosim.figures.gallery import GALLERY_PAGE, write_gallery
    from glucosim.validation.report import write_report

    _interrupted_half_way(monkeypatch, "pathlib.Path.write_text")
    _leaves_the_previous_file_whole(
        tmp_path, "validation.md", lambda path: write_report([], path, figures=False, targets=[])
    )
    gallery = tmp_path / "docs"
    gallery.mkdir()
    monkeypatch.setattr("glucosim.figures.gallery.FIGURES", {})  # the page alone, without minutes of figures
    monkeypatch.setenv("GLUCOSIM_CACHE_DIR", str(tmp_path / "cache"))
    _leaves_the_previous_file_whole(gallery, GALLERY_PAGE, lambda path: write_gallery(path.parent))


def test_the_parameter_listing_names_a_ratio_dimensionless():
    # a ratio's unit "1" read as a second number: "insulin_sensitivity_whole_body (SI) = 1 1  [0.05, 3]"
    listing = CliRunner().invoke(main, ["parameters", "--compartment", "sensitivity"])
    assert listing.exit_code == 0
    line = next(line for line in listing.output.splitlines() if line.startswith("insulin_sensitivity_whole_body "))
    assert line.split("  ")[0].endswith("= 1 (dimensionless)")


def test_a_shortened_scenario_drops_its_late_trajectory_days(tmp_path):
    # scenario 30 keeps the trajectories of days 0-4: shortened to 2 days (export-sbml --days 2, or simulate with
    # duration_days=2) it failed on "output.trajectory_days: day 2 is outside the run" (bad-input hunt, 2026-12-05)
    import glucosim

    with pytest.warns(UserWarning, match=r"dropped: change 'refeeding' from day 4; output.trajectory_days 2, 3, 4"):
        shortened = glucosim.load_scenario("30_multi_day_fast", duration_days=2)
    assert shortened.scenario.output.trajectory_days == (0, 1)


def test_export_sbml_days_beyond_a_scenario_says_so(tmp_path):
    # 30 days of the 5-day scenario 30 were written with no word that the scenario had ended (bad-input hunt)
    pytest.importorskip("libsbml")
    arguments = ["export-sbml", "--subject", "30_multi_day_fast", "--days", "7", "--out", str(tmp_path / "a.xml")]
    result = CliRunner().invoke(main, arguments)
    assert result.exit_code == 0, result.output
    assert "30_multi_day_fast.toml lasts 5 day(s); the export runs it for 7" in result.output
    for subject in ("healthy", "30_multi_day_fast"):  # a preset lives its day as long as asked; 5 days is the scenario
        days = "3" if subject == "healthy" else "5"
        quiet = CliRunner().invoke(
            main, ["export-sbml", "--subject", subject, "--days", days, "--out", str(tmp_path / "b.xml")]
        )
        assert quiet.exit_code == 0 and "lasts" not in quiet.output, quiet.output


def test_an_invalid_change_is_named_as_the_change_not_only_the_file(tmp_path):
    # --set sleep_h=40 blamed the shipped file's routine.sleep_h, which is fine as written (bad-input hunt)
    result = CliRunner().invoke(main, ["run", "32_mixed_meal_day", "--set", "sleep_h=40", "--out", str(tmp_path / "o")])
    assert result.exit_code == 2, result.output
    assert "routine.sleep_h: Input should be less than or equal to 14 (got 40)" in result.output
    assert "(with the changes sleep_h=40)" in result.output


def test_a_file_invalid_as_written_is_not_blamed_on_the_changes(tmp_path):
    # the note said "(with the changes duration_days=2)" under the file's own error (found in review)
    from tests.conftest import scenario_dict

    bad = tmp_path / "bad.toml"
    data = scenario_dict(routine={"sleep_h": 40})
    bad.write_text(f'name = "bad"\nduration_days = 3\n\n[routine]\nsleep_h = {data["routine"]["sleep_h"]}\n')
    result = CliRunner().invoke(main, ["run", str(bad), "--set", "duration_days=2", "--out", str(tmp_path / "o")])
    assert result.exit_code == 2 and "routine.sleep_h" in result.output, result.output
    assert "with the changes" not in result.output


def test_an_interrupted_validation_page_keeps_showing_its_own_figures(tmp_path, monkeypatch):
    # glucosim validation wrote its figures in place before the page: interrupted between the two, the old page
    # stood beside the new run's figures (bad-input hunt, 2026-12-05); figures are now named by their content
    import re

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from glucosim.validation import report
    from glucosim.validation.cases import Case

    case = Case(id="disposition_index", title="a case with a figure", source="-", protocol="-")

    def figures_in(colour):
        def draw(image_dir):
            image_dir.mkdir(parents=True, exist_ok=True)
            figure = plt.figure(facecolor=colour)
            path = report._save_named_by_content(figure, image_dir, "validation_disposition_index")
            plt.close(figure)
            return {"disposition_index": path}

        return draw

    page = tmp_path / "validation.md"
    (tmp_path / "images").mkdir()
    (tmp_path / "images" / "validation_disposition_index.png").write_bytes(b"a figure of the old naming")
    monkeypatch.setattr(report, "_figures", figures_in("white"))
    report.write_report([case], page, targets=[])
    first = page.read_text()
    (shown,) = re.findall(r"\]\(images/(validation_[^)]+\.png)\)", first)
    assert sorted(path.name for path in (tmp_path / "images").iterdir()) == [shown]  # the old naming's is gone
    shown_bytes = (tmp_path / "images" / shown).read_bytes()
    with monkeypatch.context() as interrupted:
        interrupted.setattr(report, "_figures", figures_in("black"))
        _interrupted_half_way(interrupted, "pathlib.Path.write_text")
        with pytest.raises(KeyboardInterrupt):
            report.write_report([case], page, targets=[])
    assert page.read_text() == first  # the page still shows its own figure, as it was
    assert (tmp_path / "images" / shown).read_bytes() == shown_bytes
    monkeypatch.setattr(report, "_figures", figures_in("black"))
    report.write_report([case], page, targets=[])
    (new,) = re.findall(r"\]\(images/(validation_[^)]+\.png)\)", page.read_text())
    assert new != shown and sorted(path.name for path in (tmp_path / "images").iterdir()) == [new]
    # a second page beside it keeps its own figure, and a file that is not one of the page's figures stays
    (tmp_path / "images" / "validation_mine.png").write_bytes(b"a user's figure")
    monkeypatch.setattr(report, "_figures", figures_in("grey"))
    other = report.write_report([case], tmp_path / "other.md", targets=[])
    (others,) = re.findall(r"\]\(images/(validation_[^)]+\.png)\)", other.read_text())
    assert sorted(path.name for path in (tmp_path / "images").iterdir()) == sorted([new, others, "validation_mine.png"])


def test_validation_on_a_full_disk_is_an_error_naming_the_page(tmp_path, monkeypatch):
    # a full disk gave PIL's OSError traceback after the cases had run (bad-input hunt, 2026-12-05)
    import errno

    def full(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    # no case and no target is evaluated: only the page's writing is under test (the targets alone took ~18 s)
    monkeypatch.setattr("glucosim.validation.cases.run_validation", lambda **kwargs: [])
    monkeypatch.setattr("glucosim.validation.report.shipped_targets", lambda: [])
    monkeypatch.setattr("glucosim.validation.report.write_report", full)
    result = CliRunner().invoke(main, ["validation", "--out", str(tmp_path / "v.md")])
    assert result.exit_code == 2, result.output
    assert "v.md: could not write: No space left on device; v.json holds this run's numbers" in result.output
    assert "the page v.md was not written" in result.output


def _validation_of_one_case(monkeypatch):
    """glucosim validation on one synthetic case and no target: the writing under test, without a minute of cases."""
    from glucosim.validation.cases import Case, Quantity

    quantity = Quantity("a", "alpha", "%", 1.0, 0.5, 1.5, remark="r", value=1.0)
    monkeypatch.setattr(
        "glucosim.validation.cases.run_validation", lambda **kwargs: [Case("c", "C", "s", "p", [quantity])]
    )
    monkeypatch.setattr("glucosim.validation.report.shipped_targets", lambda: [])


@pytest.mark.parametrize(
    "neighbour, kind, message",
    [
        ("v.json", "folder", "v.json: is a folder; the validation page's numbers are written there"),
        ("v-notes.md", "folder", "v-notes.md: is a folder; the validation page's notes are written there"),
        ("images", "file", "images: is a file; the page's figures are written into a folder of that name"),
    ],
)
def test_validation_refuses_what_it_cannot_write_beside_the_page_before_the_run(
    tmp_path, monkeypatch, neighbour, kind, message
):
    """Until 2026-12-07 (thirty-first session) a folder v.json failed after the run, leaving a new page and notes
    beside no results file (or a stale one) and an error blaming the page."""

    def fail(**_):
        raise AssertionError("the cases ran before the files beside the page were checked")

    monkeypatch.setattr("glucosim.validation.cases.run_validation", fail)
    if kind == "folder":
        (tmp_path / neighbour).mkdir()
    else:
        (tmp_path / neighbour).write_text("a file")
    result = CliRunner().invoke(main, ["validation", "--out", str(tmp_path / "v.md")])
    assert result.exit_code == 2 and message in result.output, result.output
    assert not (tmp_path / "v.md").exists()
    if neighbour == "images":  # the figures' folder matters only when figures are drawn
        _validation_of_one_case(monkeypatch)
        result = CliRunner().invoke(main, ["validation", "--no-figures", "--out", str(tmp_path / "v.md")])
        assert result.exit_code == 0 and (tmp_path / "v.md").is_file(), result.output


def test_a_failed_write_never_leaves_a_new_page_beside_missing_or_stale_numbers(tmp_path, monkeypatch):
    import errno

    from glucosim.validation import report, results

    _validation_of_one_case(monkeypatch)
    page, numbers, notes = tmp_path / "v.md", tmp_path / "v.json", tmp_path / "v-notes.md"
    real_write = results.write_text_whole

    def full(path, text):
        raise OSError(errno.ENOSPC, "No space left on device")

    with monkeypatch.context() as disk:
        disk.setattr(results, "write_text_whole", full)
        result = CliRunner().invoke(main, ["validation", "--no-figures", "--out", str(page)])
    assert result.exit_code == 2, result.output
    assert f"{numbers}: could not write the validation page's numbers: No space left on device" in result.output
    assert not page.exists() and not notes.exists()  # no page without its numbers

    def notes_full(path, text):
        if str(path).endswith("v-notes.md"):
            raise OSError(errno.ENOSPC, "No space left on device", str(path) + ".partial")
        real_write(path, text)

    with monkeypatch.context() as disk:
        disk.setattr(report, "write_text_whole", notes_full)
        result = CliRunner().invoke(main, ["validation", "--no-figures", "--out", str(page)])
    assert result.exit_code == 2, result.output
    assert f"{notes}: could not write: No space left on device; v.json holds this run's numbers" in result.output
    assert numbers.is_file() and not page.exists()
    result = CliRunner().invoke(main, ["validation", "--no-figures", "--out", str(page)])
    assert result.exit_code == 0 and page.is_file() and notes.is_file(), result.output


def test_an_unreadable_page_beside_keeps_the_figures_and_is_no_error(tmp_path, monkeypatch):
    """Figures no page shows are removed after the page is written; an unreadable .md beside it (another user's)
    raised OSError there, reported as a failure to write the page (thirty-first session). It may show any figure, so
    none is removed while it cannot be read."""
    import pathlib

    from glucosim.validation import report

    images = tmp_path / "images"
    images.mkdir()
    figure = images / "validation_ha_sherman-0123456789ab.png"
    figure.write_bytes(b"png")
    (tmp_path / "other.md").write_text(f"![x](images/{figure.name})")
    real_read = pathlib.Path.read_text

    def unreadable(self, *args, **kwargs):
        if self.name == "other.md":
            raise PermissionError(13, "Permission denied", str(self))
        return real_read(self, *args, **kwargs)

    with monkeypatch.context() as locked:
        locked.setattr(pathlib.Path, "read_text", unreadable)
        report._remove_unnamed_figures(images, "a page showing no figure")
    assert figure.is_file()
    (tmp_path / "other.md").write_text("a page showing no figure either")
    report._remove_unnamed_figures(images, "a page showing no figure")
    assert not figure.exists()  # readable, and no page shows it: removed


@pytest.mark.parametrize("name", ["v.md", "my page (draft).md", "a [b] c.md"])
def test_the_notes_links_work_for_any_page_name(tmp_path, name):
    """A name with a space or parentheses broke the links to the notes: [..](my page (draft)-notes.md#c)."""
    import re
    from urllib.parse import unquote

    from glucosim.validation.cases import Case, Quantity
    from glucosim.validation.report import notes_path, write_report

    quantity = Quantity("a", "alpha", "%", 1.0, 0.5, 1.5, remark="r", value=1.0)
    page = write_report([Case("c", "C", "s", "p", [quantity])], tmp_path / name, figures=False, targets=[])
    # a CommonMark link destination without angle brackets: no space, no unbalanced parenthesis
    destinations = re.findall(r"\]\(([^)\s]*)\)", page.read_text())
    assert sorted(set(map(unquote, destinations))) == sorted([notes_path(page).name, f"{notes_path(page).name}#c"])
    (back,) = re.findall(r"\]\(([^)\s]*)\)", notes_path(page).read_text())
    assert unquote(back) == name
    if name == "v.md":  # a plain name is written as it is (the shipped page's links)
        assert "[v-notes.md#c](v-notes.md#c)" in page.read_text()


def test_an_evaluation_cache_that_cannot_be_written_is_said_with_its_folder(tmp_path):
    from glucosim.calibration.cache import EvaluationCache
    from glucosim.errors import CalibrationError

    (tmp_path / "a_file").write_text("not a folder")
    cache = EvaluationCache(tmp_path / "a_file" / "cache", "model")
    with pytest.raises(CalibrationError, match=r"a_file/cache: cannot write the evaluation cache: .*--no-cache"):
        cache.put({"x": 1.0}, {"value": 2.0})


def test_calibrate_refuses_no_cache_with_a_cache_dir(tmp_path):
    result = CliRunner().invoke(main, ["calibrate", "--no-cache", "--cache-dir", str(tmp_path / "c"), "--no-progress"])
    assert result.exit_code == 2 and "--no-cache and --cache-dir: give one" in result.output


def test_a_broken_parameter_table_is_one_line_naming_the_file_and_line(tmp_path, monkeypatch):
    """Every command reads models/parameters.toml on import (physiology.indices); a syntax error in it was a tomllib
    traceback from every command that named no file (thirty-first session)."""
    from glucosim.errors import ParameterError
    from glucosim.physiology import indices

    table = tmp_path / "parameters.toml"
    table.write_text("[a]\nvalue = 1.0\n[b]\nvalue = 2.0 x\n")
    monkeypatch.setattr(indices, "PARAMETER_TABLE_PATH", table)
    with pytest.raises(ParameterError) as error:
        indices._parameter_names()
    assert str(error.value).startswith(f"{table}: the parameter table is not valid TOML: ")
    assert "line 4" in str(error.value)
    monkeypatch.setattr(indices, "PARAMETER_TABLE_PATH", tmp_path / "missing.toml")
    with pytest.raises(ParameterError, match="missing.toml: cannot read the parameter table: No such file"):
        indices._parameter_names()

    # raised on a command's import, outside the command's own error handling: still the one error line, status 2
    def broken():
        raise ParameterError(f"{table}: the parameter table is not valid TOML: (at line 4, column 13)")

    monkeypatch.setattr("glucosim.parameters.available_presets", broken)
    result = CliRunner().invoke(main, ["presets"])
    assert (
        result.exit_code == 2
        and result.output == f"error: {table}: the parameter table is not valid TOML: (at line 4, column 13)\n"
    )
