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
