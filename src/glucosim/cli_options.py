"""Validated click types for the command line: numbers that must be finite (and in range).

``click``'s ``float`` takes ``nan`` and ``inf``; ``--at-year inf`` then died with
an OverflowError and ``--oral-glucose-g nan`` wrote a model as if no dose were
given. Every numeric option uses ``FiniteFloat``, so click names the option in
its error: ``Invalid value for '--at-year': must be a finite number, got 'inf'``.
"""

from __future__ import annotations

import math

import click


class FiniteFloat(click.ParamType):
    """A finite float, optionally within [low, high] (either end may be open: ``low_open``/``high_open``)."""

    name = "number"

    def __init__(self, low: float | None = None, high: float | None = None, low_open: bool = False):
        self.low = low
        self.high = high
        self.low_open = low_open

    def convert(self, value, param, ctx):
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            number = float(value)
        else:
            try:
                number = float(str(value).strip())
            except ValueError:
                self.fail(f"must be a number, got {value!r}", param, ctx)
        if not math.isfinite(number):
            self.fail(f"must be a finite number, got {value!r}", param, ctx)
        if self.low is not None and (number < self.low or (self.low_open and number == self.low)):
            self.fail(f"must be {'>' if self.low_open else '>='} {self.low:g}, got {number!r}", param, ctx)
        if self.high is not None and number > self.high:
            # repr, not :g: 200.0001 printed as "got 200" beside "must be <= 200"
            self.fail(f"must be <= {self.high:g}, got {number!r}", param, ctx)
        return number

    def __repr__(self) -> str:
        return f"FiniteFloat({self.low}, {self.high})"


YEARS = FiniteFloat(low=0.0, high=100.0)
"""A time in a scenario, years (scenarios last at most 60 years; 100 leaves room and stops overflow)."""
ORAL_GLUCOSE_G = FiniteFloat(low=0.0, high=200.0)
"""A glucose drink, grams (the protocol schema's bound: 0 = none; an OGTT gives 75)."""


class Pattern(click.ParamType):
    """A string that must match a regular expression; the error names the option and shows an example."""

    name = "text"

    def __init__(self, pattern: str, example: str):
        self.pattern = pattern
        self.example = example

    def convert(self, value, param, ctx):
        import re

        text = str(value).strip()
        if not re.fullmatch(self.pattern, text):
            self.fail(f"{value!r} is not of the form {self.example}", param, ctx)
        return text


SLURM_MEMORY = Pattern(
    r"(?i)(?![0.]+\s*([kmgtp]i?b?|b)?$)[0-9]+(\.[0-9]+)?\s*([kmgtp]i?b?|b)?", "a size such as 2GB, 512MB or 16GiB"
)
"""Memory per SLURM job: a number above 0 and a unit, in any case, as dask's parse_bytes reads it ('2gb', '512MB';
dask-jobqueue raised a ValueError traceback on 'abc')."""
SLURM_WALLTIME = Pattern(
    r"([0-9]+-)?[0-9]+(:[0-5][0-9]){0,2}", "SLURM's [DAYS-]HOURS:MINUTES:SECONDS, e.g. 04:00:00 or 1-12:00:00"
)
"""Walltime per SLURM job, in SLURM's formats (minutes; H:MM:SS; D-HH:MM:SS)."""
