"""TOML reading that works on Python 3.10 (tomli) and 3.11+ (tomllib)."""

import sys

if sys.version_info >= (3, 11):
    import tomllib as toml_reader
else:  # pragma: no cover - exercised only on 3.10
    import tomli as toml_reader

TOMLDecodeError = toml_reader.TOMLDecodeError


def load_toml(path) -> dict:
    """Parse the TOML file at ``path`` into a dict."""
    with open(path, "rb") as handle:
        return toml_reader.load(handle)


def read_toml_file(path, error: type[Exception], what: str) -> tuple[dict, str]:
    """The parsed data and text of the TOML file at ``path``.

    Raises:
        error: (e.g. ScenarioError) naming the file: missing, or not valid TOML.
    """
    from pathlib import Path

    path = Path(path)
    if not path.is_file():
        raise error(f"{path}: no such {what} file")
    text = path.read_text()
    try:
        return toml_reader.loads(text), text
    except TOMLDecodeError as exc:
        raise error(f"{path}: not valid TOML: {exc}") from None
