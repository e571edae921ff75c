"""Package metadata has one source: the version in _version.py, the license in LICENSE."""

import re
from pathlib import Path

import glucosim
from glucosim._toml import load_toml
from glucosim._version import __version__

REPO = Path(__file__).resolve().parent.parent


def test_the_version_has_one_definition():
    project = load_toml(REPO / "pyproject.toml")
    assert "version" not in project["project"] and "version" in project["project"]["dynamic"]
    assert project["tool"]["setuptools"]["dynamic"]["version"] == {"attr": "glucosim._version.__version__"}
    assert glucosim.__version__ == __version__
    citation = re.search(r"^version: (\S+)$", (REPO / "CITATION.cff").read_text(), re.M)
    assert citation is not None and citation.group(1) == __version__


def test_changelog_has_this_version_or_unreleased_changes_on_top():
    headings = re.findall(r"^## \[([^\]]+)\]", (REPO / "CHANGELOG.md").read_text(), re.M)
    assert headings[0] in ("Unreleased", __version__)
    assert __version__ in headings


def test_license_file_matches_the_declared_license():
    project = load_toml(REPO / "pyproject.toml")
    declared = project["project"]["license"]
    declared = declared["text"] if isinstance(declared, dict) else declared
    assert declared == "BSD-3-Clause"
    assert (REPO / "LICENSE").read_text().startswith("BSD 3-Clause License")
    assert "license: BSD-3-Clause" in (REPO / "CITATION.cff").read_text()
