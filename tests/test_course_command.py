"""``python -m glucosim.calibration.course``: its arguments are checked, and ``--grid`` says whether the table holds
the grid's best point (a bad-input hunt, 2026-12-03: every argument but --grid was ignored, --help and --write
included, and the grid only printed its best)."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from glucosim.calibration import course

REPO_ROOT = Path(__file__).resolve().parent.parent


def test_an_unknown_argument_is_refused(capsys):
    with pytest.raises(SystemExit) as stop:
        course.main(["--wirte"])
    assert stop.value.code == 2
    assert "unrecognized arguments: --wirte" in capsys.readouterr().err


def test_write_needs_the_grid(capsys):
    with pytest.raises(SystemExit) as stop:
        course.main(["--write"])
    assert stop.value.code == 2
    assert "give --grid as well" in capsys.readouterr().err


def _costs_with_best_at(best_point_values, grid):
    """A grid's objectives with the lowest at ``best_point_values`` (a tuple in the grid's order)."""
    import itertools

    return {point: (1.0 if point == best_point_values else 5.0) for point in itertools.product(*grid.values())}


def test_the_grid_says_whether_the_table_holds_its_best(monkeypatch, capsys):
    from glucosim.parameters import load_parameter_table

    table = load_parameter_table()
    held = tuple(float(table[name].value) for name in course.GRID)
    assert held in _costs_with_best_at(held, course.GRID)  # the shipped point is on the grid
    monkeypatch.setattr(course, "load_course_targets", lambda: [])
    monkeypatch.setattr(course, "grid_costs", lambda targets, grid: _costs_with_best_at(held, grid))
    assert course.main(["--grid"]) == 0
    assert "the table holds the grid's best point" in capsys.readouterr().out
    other = tuple(values[0] for values in course.GRID.values())  # a corner, not the shipped point
    assert other != held
    monkeypatch.setattr(course, "grid_costs", lambda targets, grid: _costs_with_best_at(other, grid))
    assert course.main(["--grid"]) == 1
    assert "not the grid's best" in capsys.readouterr().out


def test_the_wide_grid_prints_its_profile_and_needs_grid(monkeypatch, capsys):
    """--grid --wide evaluates WIDE_GRID (which holds GRID) and prints its objectives as a table; --wide alone is
    refused."""
    from glucosim.parameters import load_parameter_table

    for name, values in course.GRID.items():
        assert set(values) <= set(course.WIDE_GRID[name])
    table = load_parameter_table()
    held = tuple(float(table[name].value) for name in course.WIDE_GRID)
    monkeypatch.setattr(course, "load_course_targets", lambda: [])
    monkeypatch.setattr(course, "grid_costs", lambda targets, grid: _costs_with_best_at(held, grid))
    assert course.main(["--grid", "--wide"]) == 0
    out = capsys.readouterr().out
    rows = [line for line in out.splitlines() if line.startswith("| ") and not line.startswith("| glucotoxicity")]
    assert len(rows) == len(course.WIDE_GRID["glucotoxicity_threshold"])
    assert all(line.count("|") == len(course.WIDE_GRID["beta_mass_workload_rate"]) + 2 for line in rows)
    first_row = f"| {course.WIDE_GRID['glucotoxicity_threshold'][0]:g} | "
    assert first_row in out and "1.00" in out and "the table holds the grid's best point" in out
    with pytest.raises(SystemExit) as stop:
        course.main(["--wide"])
    assert stop.value.code == 2
    assert "--wide widens --grid: give both" in capsys.readouterr().err


def test_the_course_command_takes_no_abbreviated_options(capsys):
    # argparse's allow_abbrev took --gri for --grid (bad-input hunt, 2026-12-05)
    from glucosim.calibration import course

    with pytest.raises(SystemExit) as stopped:
        course.main(["--gri"])
    assert stopped.value.code == 2 and "unrecognized arguments: --gri" in capsys.readouterr().err


def _points(grid):
    return [(t, w) for t in grid["glucotoxicity_threshold"] for w in grid["beta_mass_workload_rate"]]


def _course_grid(monkeypatch, costs):
    monkeypatch.setattr(course, "load_course_targets", lambda *a, **k: [])
    monkeypatch.setattr(course, "grid_costs", lambda targets, grid, **k: costs(grid))


def test_the_course_grid_writes_its_best_point_only_when_asked(tmp_path, monkeypatch, capsys):
    table = tmp_path / "parameters.toml"
    shutil.copy(REPO_ROOT / "models" / "parameters.toml", table)
    monkeypatch.setattr("glucosim.physiology.indices.PARAMETER_TABLE_PATH", table)

    def costs(grid):  # the best point: the grid's smallest threshold and largest rate, not the table's
        best = (min(grid["glucotoxicity_threshold"]), max(grid["beta_mass_workload_rate"]))
        return {point: (0.5 if point == best else 2.0) for point in _points(grid)}

    _course_grid(monkeypatch, costs)
    assert course.main(["--grid"]) == 1  # reports, writes nothing
    assert table.read_text() == (REPO_ROOT / "models" / "parameters.toml").read_text()
    assert course.main(["--grid", "--write"]) == 0
    threshold = min(course.GRID["glucotoxicity_threshold"])
    written = re.search(r"^\[glucotoxicity_threshold\]\n(?:(?!^\[).*\n)*?value = ([^\n]+)", table.read_text(), re.M)
    assert float(written.group(1)) == threshold
    assert "wrote" in capsys.readouterr().out


def test_a_course_grid_with_no_feasible_point_is_not_reported_as_held(monkeypatch, capsys):
    """Until 2026-12-07 (thirtieth session) a grid whose every point was infeasible (objective inf) compared its empty
    best point with an empty set of held values and reported the table as holding it (exit status 0)."""
    _course_grid(monkeypatch, lambda grid: {point: float("inf") for point in _points(grid)})
    assert course.main(["--grid", "--write"]) == 1
    assert "no point of the grid is feasible" in capsys.readouterr().out


def test_a_best_point_on_the_grids_edge_is_said(monkeypatch, capsys):
    """A model change can move the course's optimum off the grid (the thirtieth session's faster liver delay: the
    narrow grid's best sat on its edge with an objective of 9.15); the command says so instead of writing it
    silently."""
    corner = tuple(min(values) for values in course.GRID.values())
    _course_grid(monkeypatch, lambda grid: {point: (0.5 if point == corner else 2.0) for point in _points(grid)})
    assert course.main(["--grid"]) == 1
    out = capsys.readouterr().out
    assert "on the grid's edge in glucotoxicity_threshold, beta_mass_workload_rate" in out and "(try --wide)" in out


# ------------------------------------------------ the table it writes (bad-input hunt, thirty-first session)
_ENTRY = '[glucotoxicity_threshold]\nsymbol = "G_tox"\nvalue = 142.0\n'


@pytest.mark.parametrize(
    "entry, written",
    [
        ('[glucotoxicity_threshold]  # a comment\nsymbol = "G_tox"\nvalue = 142.0\n', "value = 141.0\n"),
        ('[ glucotoxicity_threshold ]\nsymbol = "G_tox"\nvalue=142.0\n', "value=141.0\n"),
        ('["glucotoxicity_threshold"]\nsymbol = "G_tox"\n  value =   142.0\n', "  value =   141.0\n"),
        (
            '[glucotoxicity_threshold]\nsymbol = "G_tox"\nvalue = 142.0  # the grid\'s\n',
            "value = 141.0  # the grid's\n",
        ),
    ],
)
def test_the_table_writer_takes_any_valid_toml_and_changes_only_the_value(tmp_path, entry, written):
    """Until 2026-12-07 a header with a comment or spaces, or value=..., stopped the write with 'no entry ... with a
    value line' after the grid's minutes, and an inline comment after the value was dropped."""
    from glucosim.calibration.table import write_parameter_values

    table = tmp_path / "parameters.toml"
    text = (REPO_ROOT / "models" / "parameters.toml").read_text()
    assert _ENTRY in text
    table.write_text(text.replace(_ENTRY, entry))
    before = table.read_text().splitlines(keepends=True)
    assert write_parameter_values({"glucotoxicity_threshold": 141.0, "beta_mass_workload_rate": 0.00005}, table) == [
        "glucotoxicity_threshold"
    ]
    after = table.read_text().splitlines(keepends=True)
    assert [(old, new) for old, new in zip(before, after) if old != new] == [
        (written.replace("141.0", "142.0"), written)
    ]
    assert len(before) == len(after)  # 0.00005 is the value held: its line keeps its spelling (not 5e-05)


def test_the_table_writer_keeps_crlf_line_endings(tmp_path):
    from glucosim.calibration.table import write_parameter_values

    table = tmp_path / "parameters.toml"
    table.write_bytes((REPO_ROOT / "models" / "parameters.toml").read_bytes().replace(b"\n", b"\r\n"))
    write_parameter_values({"glucotoxicity_threshold": 141.0}, table)
    data = table.read_bytes()
    assert b"\r\nvalue = 141.0\r\n" in data and data.count(b"\n") == data.count(b"\r\n")


@pytest.mark.parametrize(
    "entry, message",
    [
        ('[glucotoxicity_threshold]\nsymbol = "G_tox"\nvalue = [\n142.0]\n', "entry [glucotoxicity_threshold] has no"),
        ('[glucotoxicity_threshold]\nsymbol = "G_tox"\nvalue = "142.0"\n', "no line 'value = NUMBER' to rewrite"),
        (_ENTRY.replace("threshold]", "threshold_renamed]"), "no entry [glucotoxicity_threshold] in the parameter"),
    ],
)
def test_course_write_refuses_a_table_it_cannot_rewrite_before_the_grid(tmp_path, monkeypatch, capsys, entry, message):
    table = tmp_path / "parameters.toml"
    table.write_text((REPO_ROOT / "models" / "parameters.toml").read_text().replace(_ENTRY, entry))
    before = table.read_bytes()
    monkeypatch.setattr("glucosim.physiology.indices.PARAMETER_TABLE_PATH", table)

    def no_grid(*args, **kwargs):
        raise AssertionError("the grid ran before the table was checked")

    monkeypatch.setattr(course, "grid_costs", no_grid)
    assert course.main(["--grid", "--write"]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"error: {table}: ") and message in err and err.count("\n") == 1
    assert table.read_bytes() == before


def test_course_write_that_cannot_write_the_table_says_so_with_status_2(tmp_path, monkeypatch, capsys):
    """A table or folder that is not writable gave a PermissionError traceback after the grid, and status 1 (which
    says the table does not hold the best point)."""
    from glucosim.calibration import table as table_module

    table = tmp_path / "parameters.toml"
    shutil.copy(REPO_ROOT / "models" / "parameters.toml", table)
    monkeypatch.setattr("glucosim.physiology.indices.PARAMETER_TABLE_PATH", table)

    def denied(*args, **kwargs):
        raise PermissionError(13, "Permission denied")

    def no_grid(*args, **kwargs):
        raise AssertionError("the grid ran before the table was checked")

    with monkeypatch.context() as read_only:  # before the grid: a file cannot be made beside the table
        read_only.setattr(table_module, "open", denied, raising=False)
        read_only.setattr(course, "grid_costs", no_grid)
        assert course.main(["--grid", "--write"]) == 2
    assert capsys.readouterr().err == f"error: {table}: could not write the parameter table: Permission denied\n"

    def costs(grid):  # the best point: not the table's
        best = (min(grid["glucotoxicity_threshold"]), max(grid["beta_mass_workload_rate"]))
        return {point: (0.5 if point == best else 2.0) for point in _points(grid)}

    _course_grid(monkeypatch, costs)
    monkeypatch.setattr(table_module, "write_bytes_whole", denied)  # after the grid: the table turned read-only
    assert course.main(["--grid", "--write"]) == 2
    assert capsys.readouterr().err == f"error: {table}: could not write the parameter table: Permission denied\n"
    assert table.read_bytes() == (REPO_ROOT / "models" / "parameters.toml").read_bytes()


def test_calibrate_write_checks_the_table_before_fitting(tmp_path, monkeypatch):
    from click.testing import CliRunner

    from glucosim.calibration import table as table_module
    from glucosim.cli import main

    def denied(*args, **kwargs):
        raise PermissionError(13, "Permission denied")

    def no_fit(*args, **kwargs):
        raise AssertionError("the fit ran before the table was checked")

    table = tmp_path / "parameters.toml"
    shutil.copy(REPO_ROOT / "models" / "parameters.toml", table)
    monkeypatch.setattr("glucosim.physiology.indices.PARAMETER_TABLE_PATH", table)
    monkeypatch.setattr(table_module, "open", denied, raising=False)
    monkeypatch.setattr("glucosim.calibration.command.run", no_fit)
    result = CliRunner().invoke(main, ["calibrate", "--write", "--no-progress", "--out", str(tmp_path / "c.md")])
    assert result.exit_code == 2, result.output
    assert f"error: {table}: could not write the parameter table: Permission denied" in result.output
