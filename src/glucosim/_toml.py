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


MAX_INPUT_BYTES = 1_000_000
"""Largest input file read (scenarios, protocols, sweeps are a few kB; a bigger file is a wrong file)."""
MAX_NESTING = 32
"""Deepest nesting of tables and arrays in an input file (the schemas need 5)."""


def shown_path(path) -> str:
    """``path`` for a message: a name too long to be a file is shortened, never hidden."""
    from pathlib import Path

    path = Path(path)
    if len(path.name) <= 120:
        return str(path)
    return f"{path.parent / path.name[:60]}...{path.name[-20:]} (a {len(path.name)}-character name)"


def _depth(data) -> int:
    deepest, stack = 0, [(data, 0)]
    while stack:
        node, level = stack.pop()
        deepest = max(deepest, level)
        if deepest > MAX_NESTING:
            break
        children = node.values() if isinstance(node, dict) else node if isinstance(node, list) else ()
        stack.extend((child, level + 1) for child in children if isinstance(child, (dict, list)))
    return deepest


def read_toml_file(path, error: type[Exception], what: str) -> tuple[dict, str]:
    """The parsed data and text of the TOML file at ``path``.

    Raises:
        error: (e.g. ScenarioError) in one line naming the file: missing, unreadable (permissions, a name
            too long), too large, not UTF-8 text, not valid TOML, or nested too deeply.
    """
    from pathlib import Path

    path = Path(path)
    name = shown_path(path)
    try:
        if not path.is_file():
            raise error(f"{name}: no such {what} file")
        size = path.stat().st_size
        if size > MAX_INPUT_BYTES:
            raise error(f"{name}: {size:,} bytes is too large for a {what} file (at most {MAX_INPUT_BYTES:,})")
        raw = path.read_bytes()
    except OSError as exc:
        raise error(f"{name}: cannot read the {what} file: {exc.strerror or exc}") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise error(
            f"{name}: not a text file (byte 0x{raw[exc.start]:02x} at position {exc.start} is not UTF-8); "
            f"a {what} file is TOML text"
        ) from None
    if "\x00" in text:
        raise error(f"{name}: not a text file (it contains NUL bytes); a {what} file is TOML text")
    try:
        data = toml_reader.loads(text)
    except TOMLDecodeError as exc:
        raise error(f"{name}: not valid TOML: {exc}") from None
    except RecursionError:
        raise error(f"{name}: nested too deeply (at most {MAX_NESTING} levels of tables and arrays)") from None
    if _depth(data) > MAX_NESTING:
        raise error(f"{name}: nested too deeply (at most {MAX_NESTING} levels of tables and arrays)")
    return data, text
