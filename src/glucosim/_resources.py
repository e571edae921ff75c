"""Internal: the data shipped inside the package (scenarios, sweeps, protocols, models, validation cases).

Everything is read through ``importlib.resources`` from the installed
``glucosim`` package, so an installed wheel finds its data wherever it is run
from. In a clone, ``src/glucosim/{models,protocols,scenarios}`` and
``validation/data`` are links to the repository's top-level folders, so the
files are edited (and ``glucosim run scenarios/03_....toml`` works) where they
always were.
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

from glucosim.errors import ScenarioError


def package_path(*parts: str) -> Path:
    """The path of ``parts`` inside the installed package (a regular directory: wheels are not zip-imported)."""
    return Path(str(files("glucosim").joinpath(*parts)))


def scenario_dir() -> Path:
    """Folder of the shipped scenarios."""
    return package_path("scenarios")


def shipped_scenarios() -> dict[str, Path]:
    """Shipped scenario name (file stem) -> path, in name order."""
    return {path.stem: path for path in sorted(scenario_dir().glob("*.toml"))}


def shipped_sweeps() -> dict[str, Path]:
    """Shipped sweep name (file stem) -> path."""
    return {path.stem: path for path in sorted((scenario_dir() / "sweeps").glob("*.toml"))}


def _resolve(reference, shipped: dict[str, Path], what: str, error: type[Exception]) -> Path:
    path = Path(str(reference))
    try:
        if path.is_file():
            return path
    except OSError:  # e.g. a name too long for the file system: the file reader names it in one line
        return path
    name = path.name[: -len(".toml")] if path.name.endswith(".toml") else path.name
    # A shipped name, also when given as the clone's relative path (scenarios/03_....toml) from elsewhere.
    if name in shipped and (path.parent == Path(".") or path.parent.name in ("scenarios", "sweeps")):
        return shipped[name]
    if path.is_dir():  # a folder (a sweep's results) was "no such sweep file"; a shipped name wins over a folder
        raise error(f"{reference}: is a folder, not a {what} file; give a {what} TOML file or a shipped {what} name")
    import difflib

    close = difflib.get_close_matches(name, shipped, n=3)
    hint = f"; did you mean {', '.join(close)}?" if close else ""
    raise error(
        f"{reference}: no such {what} file, and not a shipped {what} name{hint} (shipped: {', '.join(shipped)})"
    )


def scenario_path(reference) -> Path:
    """A scenario file path, or the shipped scenario named ``reference`` (with or without ``.toml``).

    Raises:
        ScenarioError: neither a file nor a shipped name (lists the shipped names).
    """
    return _resolve(reference, shipped_scenarios(), "scenario", ScenarioError)


def sweep_path(reference) -> Path:
    """A sweep file path, or the shipped sweep named ``reference``."""
    return _resolve(reference, shipped_sweeps(), "sweep", ScenarioError)
