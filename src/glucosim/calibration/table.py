"""Writing calibrated values into the parameter table (models/parameters.toml), for every command that fits
some: ``glucosim calibrate --write`` and the course grid's ``--write`` (calibration.course). Apart from the
calibration page (calibration.report) so that the course, which the page's measurements use, can write without an
import cycle."""

from __future__ import annotations

import math
import os
import re
from pathlib import Path

from glucosim._files import temporary_beside, write_bytes_whole
from glucosim._toml import TOMLDecodeError, toml_reader
from glucosim.errors import CalibrationError

SIGNIFICANT_DIGITS = 4
"""Digits written to models/parameters.toml (the test's agreement tolerance is 1 %, far above rounding)."""

_KEY = r"""(?:[A-Za-z0-9_-]+|"[^"\\\r\n]*"|'[^'\r\n]*')"""
_HEADER = re.compile(rf"[ \t]*\[[ \t]*(?P<key>{_KEY})[ \t]*\][ \t]*(?:#[^\r\n]*)?(?P<end>\r?\n|\r|$)")
"""A table header as TOML allows it: ``[name]``, ``[ name ]``, ``["name"]``, with a comment after it."""
_ANY_HEADER = re.compile(r"[ \t]*\[")
"""Any header line ([table], [[array]], [a.b]): where an entry's lines end."""
_VALUE = re.compile(
    r"""(?P<head>[ \t]*(?:value|"value"|'value')[ \t]*=[ \t]*)(?P<value>[^#\r\n]*?)(?P<tail>[ \t]*(?:#[^\r\n]*)?)"""
    r"(?P<end>\r?\n|\r|$)"
)
"""An entry's ``value = NUMBER`` line, with any spacing and an inline comment (kept)."""


def format_value(value: float) -> str:
    """A calibrated value as written to the table: SIGNIFICANT_DIGITS significant digits."""
    return f"{float(f'{value:.{SIGNIFICANT_DIGITS}g}')!r}"


def _unquoted(key: str) -> str:
    return key[1:-1] if key[:1] in "\"'" else key


def _toml_number(text: str) -> float | None:
    """The number a TOML value ``text`` is (0.00005, 5e-05, 1_000), or None when it is something else."""
    try:
        value = toml_reader.loads(f"v = {text}")["v"]
    except TOMLDecodeError:
        return None
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def _rewritten(text: str, values: dict[str, float], path: Path) -> tuple[str, list[str]]:
    """``text`` with the value line of each entry of ``values`` set, and the names whose written value changed.

    Line by line, so that everything else (comments, spacing, the file's line endings) stays byte for byte; the
    result is parsed again and must differ from ``text`` in exactly those values (a line-based edit could otherwise
    be fooled, e.g. by a header inside a multi-line string).
    """
    try:
        before = toml_reader.loads(text)
    except TOMLDecodeError as error:
        raise CalibrationError(f"{path}: not valid TOML: {error}; nothing was written") from None
    lines = text.splitlines(keepends=True)
    changed = []
    for name, value in values.items():
        if not math.isfinite(value):
            raise CalibrationError(f"{path}: [{name}]: value {value} is not a finite number; nothing was written")
        headers = [i for i, line in enumerate(lines) if (m := _HEADER.fullmatch(line)) and _unquoted(m["key"]) == name]
        if not headers:
            raise CalibrationError(f"{path}: no entry [{name}] in the parameter table; nothing was written")
        start = headers[0] + 1
        stop = next((i for i in range(start, len(lines)) if _ANY_HEADER.match(lines[i])), len(lines))
        found = [
            (i, m)
            for i in range(start, stop)
            if (m := _VALUE.fullmatch(lines[i])) and _toml_number(m["value"]) is not None
        ]
        if not found:
            raise CalibrationError(
                f"{path}: entry [{name}] has no line 'value = NUMBER' to rewrite (a value on one line, a comment"
                " after it allowed); nothing was written"
            )
        index, match = found[0]
        new = format_value(value)
        if _toml_number(match["value"]) != float(new):  # an equal value keeps its spelling (0.00005, not 5e-05)
            changed.append(name)
            lines[index] = match["head"] + new + match["tail"] + match["end"]
    new_text = "".join(lines)
    try:
        after = toml_reader.loads(new_text)
    except TOMLDecodeError:  # not expected: a number replaced by another on a line of its own
        after = {}
    expected = {name: float(format_value(value)) for name, value in values.items()}
    for name, value in expected.items():
        old, new = before.get(name), after.get(name)
        if not (isinstance(old, dict) and isinstance(new, dict) and new.get("value") == value):
            raise CalibrationError(
                f"{path}: the line 'value = ...' of entry [{name}] could not be told apart from the rest of the file"
                " (a header or value inside a multi-line string?); nothing was written"
            )
        new["value"] = old.get("value")  # so that what remains to compare is everything else
    if after != before:
        raise CalibrationError(
            f"{path}: rewriting the values of {', '.join(values)} would change other entries (a header or value"
            " inside a multi-line string?); nothing was written"
        )
    return new_text, changed


def _read(path: Path) -> str:
    try:
        # bytes, not read_text: its universal newlines would write a CRLF table back with LF endings
        return path.read_bytes().decode("utf-8")
    except FileNotFoundError:
        raise CalibrationError(f"{path}: no such parameter table") from None
    except (OSError, UnicodeDecodeError) as error:
        reason = getattr(error, "strerror", None) or error
        raise CalibrationError(f"{path}: cannot read the parameter table: {reason}") from None


def check_writable(names, path) -> None:
    """Refuse, before minutes of fitting, a table whose entries ``names`` cannot be rewritten or that cannot be
    replaced (its folder not writable: the table is written beside and renamed onto it).

    Raises:
        CalibrationError: in one line naming the table: unreadable, an entry without a value line, not writable.
    """
    path = Path(path)
    _rewritten(_read(path), {name: 0.0 for name in names}, path)
    probe = temporary_beside(path)
    try:
        # a real write rather than os.access: root passes access checks that a read-only file system still refuses
        with open(probe, "xb"):
            pass
    except OSError as error:
        raise CalibrationError(f"{path}: could not write the parameter table: {error.strerror or error}") from None
    finally:
        if os.path.lexists(probe):
            probe.unlink()


def write_parameter_values(values: dict[str, float], path) -> list[str]:
    """Set ``value = ...`` of each named entry of the parameter table at ``path``; the rest of the file (comments,
    an inline comment after a value, spacing, line endings) is kept byte for byte.

    Returns:
        names whose written value changed.

    Raises:
        CalibrationError: a name without an entry in the table or an entry without a value line, or the table
            cannot be read or written (the message names the table; it is then as it was).
    """
    path = Path(path)
    text, changed = _rewritten(_read(path), values, path)
    try:
        write_bytes_whole(path, text.encode("utf-8"))  # the parameter table: never left half-written by an interrupt
    except OSError as error:
        raise CalibrationError(f"{path}: could not write the parameter table: {error.strerror or error}") from None
    return changed
