"""``python -m glucosim.calibration.course``: its arguments are checked, and ``--grid`` says whether the table holds
the grid's best point (a bad-input hunt, 2026-12-03: every argument but --grid was ignored, --help and --write
included, and the grid only printed its best)."""

from __future__ import annotations

import pytest

from glucosim.calibration import course


def test_an_unknown_argument_is_refused(capsys):
    with pytest.raises(SystemExit) as stop:
        course.main(["--write"])
    assert stop.value.code == 2
    assert "unrecognized arguments: --write" in capsys.readouterr().err


def test_the_grid_says_whether_the_table_holds_its_best(monkeypatch, capsys):
    from glucosim.parameters import load_parameter_table

    table = load_parameter_table()
    held = {name: float(table[name].value) for name in course.GRID}
    monkeypatch.setattr(course, "load_course_targets", lambda: [])
    monkeypatch.setattr(course, "fit_grid", lambda targets: (dict(held), 1.0))
    assert course.main(["--grid"]) == 0
    assert "the table holds the grid's best point" in capsys.readouterr().out
    other = {name: value * 1.1 for name, value in held.items()}
    monkeypatch.setattr(course, "fit_grid", lambda targets: (other, 1.0))
    assert course.main(["--grid"]) == 1
    assert "not the grid's best" in capsys.readouterr().out
