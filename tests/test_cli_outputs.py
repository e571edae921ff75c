"""Output paths are checked before any work: the kind of file by its ending, a folder where a folder is wanted,
and a path that runs through a file (a bad-input hunt, 2026-12-03: export-sbml replaced a sweep file with SBML,
figure overwrote any file, and validation, calibrate and figure failed with a traceback after their work).
"""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from glucosim.cli import main


@pytest.fixture
def a_file(tmp_path):
    path = tmp_path / "sweep.toml"
    path.write_text('name = "keep me"\n')
    return path


@pytest.mark.parametrize(
    ("command", "out_name", "message"),
    [
        (["export-sbml"], "sweep.toml", "--out must end in .xml or .sbml"),
        (["figure", "day"], "sweep.toml", "--out must end in .png, .svg or .pdf"),
        (["validation"], "sweep.toml", "--out must end in .md"),
        (["calibrate"], "sweep.toml", "--out must end in .md"),
    ],
)
def test_an_output_of_the_wrong_kind_is_refused_and_the_file_kept(a_file, command, out_name, message):
    result = CliRunner().invoke(main, [*command, "--out", str(a_file.parent / out_name)])
    assert result.exit_code == 2
    assert message in result.output
    assert a_file.read_text() == 'name = "keep me"\n'


@pytest.mark.parametrize(
    ("command", "out_name"),
    [
        (["export-sbml"], "model.xml"),
        (["export-sbml", "--days", "2"], "model.xml"),
        (["figure", "day"], "day.png"),
        (["validation"], "validation.md"),
        (["calibrate"], "calibration.md"),
    ],
)
def test_an_output_under_a_file_is_refused_before_any_work(a_file, command, out_name):
    result = CliRunner().invoke(main, [*command, "--out", str(a_file / out_name)])
    assert result.exit_code == 2
    assert f"{a_file} is a file, not a folder to write into" in result.output


def test_an_output_that_is_a_folder_is_refused(tmp_path):
    (tmp_path / "model.xml").mkdir()
    result = CliRunner().invoke(main, ["export-sbml", "--out", str(tmp_path / "model.xml")])
    assert result.exit_code == 2
    assert "is a directory" in result.output  # click's own check (dir_okay=False), before the command's


def test_a_gallery_folder_that_is_a_file_is_refused(a_file):
    result = CliRunner().invoke(main, ["gallery", "--out", str(a_file / "docs")])
    assert result.exit_code == 2
    assert f"{a_file} is a file, not a folder to write into" in result.output
