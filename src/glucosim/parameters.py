"""The parameter table: load, look up, override within range, and pack for the kernels.

``models/parameters.toml`` is the single source of truth; subject presets in
``models/presets/`` are overrides of it, never code.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from types import MappingProxyType

import numpy as np

from glucosim._toml import load_toml
from glucosim.errors import ParameterError
from glucosim.physiology.indices import PARAMETER_TABLE_PATH, Par

PRESET_DIR = PARAMETER_TABLE_PATH.parent / "presets"
DIMENSIONLESS = "1"
"""The unit of a ratio or a relative value in the table (dimension one)."""


@dataclass(frozen=True)
class Parameter:
    """One row of the parameter table."""

    name: str
    symbol: str
    value: float
    unit: str
    low: float
    high: float
    compartment: str
    description: str
    source: str

    def check(self, value: float, where: str = "") -> float:
        """Return ``value`` as float if it lies in the plausible range, else raise ParameterError."""
        value = float(value)
        if not (self.low <= value <= self.high):
            prefix = f"{where}: " if where else ""
            # a ratio's unit "1" read as a number: "= 50 1 is outside its plausible range [0.05, 3] 1"
            unit, note = ("", "dimensionless; ") if self.unit == DIMENSIONLESS else (f" {self.unit}", "")
            raise ParameterError(
                f"{prefix}parameter '{self.name}' = {value:g}{unit} is outside its plausible range "
                f"[{self.low:g}, {self.high:g}]{unit} ({note}source: {self.source})"
            )
        return value


class ParameterTable:
    """All model parameters, in kernel order, with their units, ranges and sources."""

    def __init__(self, rows: Mapping[str, Parameter]):
        self._rows = MappingProxyType(dict(rows))

    @classmethod
    def from_toml(cls, path: Path = PARAMETER_TABLE_PATH) -> "ParameterTable":
        """Load and check the table at ``path``."""
        rows = {}
        for name, entry in load_toml(path).items():
            low, high = entry["range"]
            row = Parameter(
                name=name,
                symbol=entry["symbol"],
                value=float(entry["value"]),
                unit=entry["unit"],
                low=float(low),
                high=float(high),
                compartment=entry["compartment"],
                description=entry["description"],
                source=entry["source"],
            )
            row.check(row.value, where=str(path))
            rows[name] = row
        if list(rows) != [member.name for member in Par]:
            raise ParameterError(f"{path}: parameter order differs from the kernel index (restart Python)")
        return cls(rows)

    def __getitem__(self, name: str) -> Parameter:
        try:
            return self._rows[name]
        except (KeyError, TypeError):  # a list is unhashable: a TypeError from the dict
            raise ParameterError(self._unknown(name)) from None

    def __contains__(self, name: str) -> bool:
        return name in self._rows

    def __iter__(self):
        return iter(self._rows.values())

    def __len__(self) -> int:
        return len(self._rows)

    @property
    def names(self) -> tuple:
        """Parameter names in kernel order."""
        return tuple(self._rows)

    def _unknown(self, name: str) -> str:
        import difflib

        if not isinstance(name, str):  # result.parameter(3) was a TypeError from difflib
            return f"a parameter is named by its table name (a string), got {name!r} (all names: glucosim parameters)"
        close = difflib.get_close_matches(name, self._rows, n=3)
        hint = f"; did you mean {', '.join(repr(c) for c in close)}?" if close else ""
        return f"unknown parameter '{name}'{hint} (all names: glucosim parameters, or models/parameters.toml)"

    def vector(self, overrides: Mapping[str, float] | None = None, where: str = "") -> np.ndarray:
        """The kernel parameter vector with ``overrides`` applied (each checked against its range)."""
        values = np.array([row.value for row in self._rows.values()], dtype=np.float64)
        for name, value in (overrides or {}).items():
            if name not in self._rows:
                raise ParameterError(f"{where}: {self._unknown(name)}" if where else self._unknown(name))
            values[Par[name]] = self._rows[name].check(value, where)
        return values


@lru_cache(maxsize=1)
def load_parameter_table() -> ParameterTable:
    """The package's parameter table (parsed once)."""
    return ParameterTable.from_toml()


def available_presets() -> list[str]:
    """Names of the subject presets shipped in ``models/presets``."""
    return sorted(path.stem for path in PRESET_DIR.glob("*.toml"))


def load_preset(name: str) -> dict:
    """Parameter overrides of the subject preset ``name`` (checked against the table)."""
    path = PRESET_DIR / f"{name}.toml"
    if not path.is_file():
        raise ParameterError(f"unknown preset '{name}'; available presets: {', '.join(available_presets())}")
    overrides = dict(load_toml(path).get("parameters", {}))
    load_parameter_table().vector(overrides, where=str(path))
    return overrides


def preset_description(name: str) -> str:
    """One-line description of a preset."""
    return load_toml(PRESET_DIR / f"{name}.toml").get("description", "")
