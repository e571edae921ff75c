"""Writing calibrated values into the parameter table (models/parameters.toml), for every command that fits
some: ``glucosim calibrate --write`` and the course grid's ``--write`` (calibration.course). Apart from the
calibration page (calibration.report) so that the course, which the page's measurements use, can write without an
import cycle."""

from __future__ import annotations

import re
from pathlib import Path

from glucosim._files import write_text_whole
from glucosim.errors import CalibrationError

SIGNIFICANT_DIGITS = 4
"""Digits written to models/parameters.toml (the test's agreement tolerance is 1 %, far above rounding)."""


def format_value(value: float) -> str:
    """A calibrated value as written to the table: SIGNIFICANT_DIGITS significant digits."""
    return f"{float(f'{value:.{SIGNIFICANT_DIGITS}g}')!r}"


def write_parameter_values(values: dict[str, float], path) -> list[str]:
    """Set ``value = ...`` of each named entry of the parameter table at ``path``; comments are kept.

    Returns:
        names whose written value changed.

    Raises:
        CalibrationError: a name without an entry in the table.
    """
    path = Path(path)
    text = path.read_text()
    changed = []
    for name, value in values.items():
        pattern = re.compile(rf"(^\[{re.escape(name)}\]\n(?:(?!^\[).*\n)*?value = )([^\n]+)", re.MULTILINE)
        match = pattern.search(text)
        if match is None:
            raise CalibrationError(f"{path}: no entry [{name}] with a value line")
        new = format_value(value)
        if match.group(2).strip() != new:
            changed.append(name)
        text = text[: match.start(2)] + new + text[match.end(2) :]
    write_text_whole(path, text)  # the parameter table: never left half-written by an interrupt
    return changed
